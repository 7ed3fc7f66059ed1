//! Small builders for [`DavBody`] responses, so every method writes headers the same
//! way (XML bodies as `application/xml; charset=utf-8`, reference/clients.md §7).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full};

use super::DavBody;

/// Content type of multistatus and error bodies.
pub const XML: &str = "application/xml; charset=utf-8";
/// Content type of plain-text explanations.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// A response with a buffered body.
pub fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<DavBody> {
    let mut r = Response::new(
        Full::new(body.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A response without a body.
pub fn empty(status: StatusCode) -> Response<DavBody> {
    let mut r = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *r.status_mut() = status;
    r
}

/// `207 Multi-Status` with an XML body.
pub fn multistatus(body: Vec<u8>) -> Response<DavBody> {
    full(StatusCode::MULTI_STATUS, XML, body)
}

/// A plain-text response.
pub fn text(status: StatusCode, message: impl Into<String>) -> Response<DavBody> {
    let mut m = message.into();
    if !m.ends_with('\n') {
        m.push('\n');
    }
    full(status, TEXT, m)
}

/// Set a header whose value we built ourselves; a value that cannot be a header (never
/// expected: ETags and dates are ASCII) is left out rather than panicking.
pub fn set_header(r: &mut Response<DavBody>, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}
