//! HTTP answers of the onboarding page: HTML with the security headers every page
//! carries, redirects, downloads, and the two cookies (session, login binding).

use crate::dav::DavBody;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};

/// The session cookie.
pub const SESSION_COOKIE: &str = "cardbridge_session";
/// Binds a sign-in under way to the browser that started it.
pub const LOGIN_COOKIE: &str = "cardbridge_login";

/// No script, no inline style, no framing, forms and images from here only.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn body(bytes: impl Into<Bytes>) -> DavBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// `same-origin`: nothing leaks to other sites, and a same-origin form POST still
/// carries its real `Origin` (under `no-referrer` browsers send `Origin: null`).
fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A response with the security headers and `no-store`.
pub fn with_type(
    status: StatusCode,
    content_type: &'static str,
    bytes: impl Into<Bytes>,
) -> Response<DavBody> {
    let mut r = Response::new(body(bytes));
    *r.status_mut() = status;
    secure_headers(r.headers_mut());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// An HTML page.
pub fn html(status: StatusCode, page: String) -> Response<DavBody> {
    with_type(status, "text/html; charset=utf-8", page)
}

/// The style sheet (cacheable: it holds nothing personal).
pub fn style() -> Response<DavBody> {
    let mut r = with_type(
        StatusCode::OK,
        "text/css; charset=utf-8",
        super::html::STYLE,
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// `303 See Other` to `location` (after a POST, and into and out of the sign-in).
pub fn redirect(location: &str) -> Response<DavBody> {
    let mut r = with_type(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        Bytes::new(),
    );
    match HeaderValue::from_str(location) {
        Ok(v) => {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR,
    }
    r
}

/// A file download.
pub fn download(content_type: &'static str, file_name: &str, bytes: Vec<u8>) -> Response<DavBody> {
    let mut r = with_type(StatusCode::OK, content_type, bytes);
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(['"', '\\'], "_")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Add a `Set-Cookie` for `/web` (`max_age` 0 deletes it).
pub fn set_cookie(
    r: &mut Response<DavBody>,
    name: &str,
    value: &str,
    max_age_secs: u64,
    secure: bool,
) {
    let mut c =
        format!("{name}={value}; Path=/web; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}");
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The value of cookie `name` sent with the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_the_security_headers() {
        let r = html(StatusCode::OK, "<p>x</p>".into());
        let h = r.headers();
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
        assert!(!CSP.contains("unsafe"), "no inline script or style");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
    }

    #[test]
    fn cookies_are_http_only_lax_scoped_and_secure_on_tls() {
        let mut r = redirect("/web/");
        set_cookie(&mut r, SESSION_COOKIE, "abc", 60, true);
        set_cookie(&mut r, LOGIN_COOKIE, "", 0, false);
        let all: Vec<_> = r.headers().get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(
            all[0],
            "cardbridge_session=abc; Path=/web; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            all[1],
            "cardbridge_login=; Path=/web; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/web/");
    }

    #[test]
    fn cookie_header_is_parsed() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; cardbridge_session=xyz"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("cardbridge_login=q"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), Some("q"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn download_names_the_file() {
        let r = download(
            "application/x-apple-aspen-config",
            "a\"b.mobileconfig",
            vec![1],
        );
        assert_eq!(
            r.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"a_b.mobileconfig\""
        );
    }
}
