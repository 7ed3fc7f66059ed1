//! gzip for multistatus answers (RFC 9110 §8.4.1.3, §12.5.3), so a phone's first sync
//! of a large address book moves a fifth of the bytes: vCards in XML compress about 5×.
//!
//! Only `207 Multi-Status` bodies are compressed (PROPFIND, REPORT): they carry no ETag,
//! so a coded representation never gets the identity representation's strong ETag
//! (RFC 9110 §8.8.3). Cards (GET) are small and keep their bytes as served. The body is
//! compressed as it streams, frame by frame, and only when the request's
//! `Accept-Encoding` admits gzip (not with `q=0`); every compressed answer says
//! `Vary: Accept-Encoding`. DAVx5, Apple's clients and Thunderbird all send
//! `Accept-Encoding: gzip`.

use crate::dav::DavBody;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bodies shorter than this stay as they are (gzip's header and trailer cost 18 bytes).
const MIN_BYTES: u64 = 1024;

/// Whether `Accept-Encoding` admits gzip (`gzip`, `x-gzip` or `*`, without `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let named = ["gzip", "x-gzip", "*"]
                .iter()
                .any(|c| coding.eq_ignore_ascii_case(c));
            let refused = parts.any(|p| {
                let p = p.trim();
                p.len() >= 2
                    && p[..2].eq_ignore_ascii_case("q=")
                    && p[2..].trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
            });
            named && !refused
        })
}

/// `response` gzip-coded when it is a multistatus worth compressing.
pub fn maybe_gzip(accepts: bool, response: Response<DavBody>) -> Response<DavBody> {
    if !accepts
        || response.status() != StatusCode::MULTI_STATUS
        || response.headers().contains_key(header::CONTENT_ENCODING)
        || response
            .body()
            .size_hint()
            .exact()
            .is_some_and(|n| n < MIN_BYTES)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, Gzip::new(body).boxed())
}

/// A body compressed as its frames arrive.
struct Gzip {
    inner: DavBody,
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl Gzip {
    fn new(inner: DavBody) -> Self {
        Self {
            inner,
            // Level 1: most of the size gain of higher levels at a fraction of the CPU
            // (the server has few cores and many polling clients).
            encoder: Some(GzEncoder::new(Vec::new(), Compression::fast())),
        }
    }
}

impl Body for Gzip {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(f) => f,
            };
            match frame {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers: none in this server's answers
                    };
                    // Writing into a Vec cannot fail.
                    let _ = encoder.write_all(&data);
                    let out = std::mem::take(encoder.get_mut());
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Some(Err(never)) => match never {},
                None => {
                    let rest = this
                        .encoder
                        .take()
                        .and_then(|e| e.finish().ok())
                        .unwrap_or_default();
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(rest)))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        assert!(accepts_gzip(&headers("gzip")));
        assert!(accepts_gzip(&headers("br, gzip;q=0.5, deflate")));
        assert!(accepts_gzip(&headers("GZIP")));
        assert!(accepts_gzip(&headers("*")));
        assert!(!accepts_gzip(&headers("gzip;q=0")));
        assert!(!accepts_gzip(&headers("gzip; q=0.0, br")));
        assert!(!accepts_gzip(&headers("identity, br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    fn multistatus(chunks: Vec<&'static str>) -> Response<DavBody> {
        let stream = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, Infallible>(Frame::data(Bytes::from(c)))),
        );
        let body = http_body_util::StreamBody::new(stream).boxed();
        Response::builder()
            .status(StatusCode::MULTI_STATUS)
            .body(body)
            .unwrap()
    }

    async fn collect(r: Response<DavBody>) -> Vec<u8> {
        r.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn a_streamed_multistatus_round_trips_through_gzip() {
        let card = "<d:response><d:href>/dav/a.vcf</d:href>BEGIN:VCARD&#13;\nFN:A&#13;\nEND:VCARD</d:response>";
        let chunks: Vec<&'static str> = std::iter::repeat_n(card, 200).collect();
        let plain: String = chunks.concat();
        let r = maybe_gzip(true, multistatus(chunks));
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "Accept-Encoding");
        let coded = collect(r).await;
        assert!(coded.len() * 5 < plain.len(), "{} bytes", coded.len());
        let mut decoded = String::new();
        GzDecoder::new(&coded[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, plain);
    }

    #[tokio::test]
    async fn other_answers_and_refusing_clients_get_identity() {
        let r = maybe_gzip(false, multistatus(vec!["x"; 2000]));
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        let ok = Response::new(crate::server::handler::full("BEGIN:VCARD".repeat(500)));
        let r = maybe_gzip(true, ok);
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
        let small = Response::builder()
            .status(StatusCode::MULTI_STATUS)
            .body(crate::server::handler::full("<d:multistatus/>"))
            .unwrap();
        let r = maybe_gzip(true, small);
        assert!(!r.headers().contains_key(header::CONTENT_ENCODING));
    }
}
