//! The onboarding page in front of the CardDAV layer: one [`DavService`] that sends
//! `/web/…` to the page, redirects a browser that opens `/` to `/web/`, and passes
//! everything else to `dav` untouched.
//!
//! Only a plain browser visit of `/` is redirected (GET or HEAD, `Accept` naming
//! `text/html`, no `Authorization`): CardDAV clients probe `/` with PROPFIND and OPTIONS
//! (macOS sends `OPTIONS /` first and breaks on a redirect to a login page,
//! reference/clients.md §2.1), and those still reach `dav`.

use super::WebApp;
use super::respond;
use crate::dav::DavBody;
use crate::server::DavService;
use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use http::{Method, header};
use std::sync::Arc;

/// `dav` with the onboarding page mounted under `/web/`.
pub struct WebFront {
    web: Arc<WebApp>,
    dav: Arc<dyn DavService>,
}

impl WebFront {
    pub fn new(web: Arc<WebApp>, dav: Arc<dyn DavService>) -> Self {
        Self { web, dav }
    }
}

fn is_web(path: &str) -> bool {
    path == "/web" || path.starts_with("/web/")
}

fn is_browser_visit_of_root(parts: &http::request::Parts) -> bool {
    matches!(parts.method, Method::GET | Method::HEAD)
        && parts.uri.path() == "/"
        && !parts.headers.contains_key(header::AUTHORIZATION)
        && parts
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/html"))
}

impl DavService for WebFront {
    fn needs_auth(&self, parts: &http::request::Parts) -> bool {
        if is_web(parts.uri.path()) || is_browser_visit_of_root(parts) {
            return false;
        }
        self.dav.needs_auth(parts)
    }

    fn handle(
        &self,
        user: Option<String>,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, http::Response<DavBody>> {
        let (parts, body) = req.into_parts();
        if is_browser_visit_of_root(&parts) {
            return futures_util::future::ready(respond::redirect("/web/")).boxed();
        }
        let req = http::Request::from_parts(parts, body);
        if is_web(req.uri().path()) {
            let web = Arc::clone(&self.web);
            return async move { web.handle(req).await }.boxed();
        }
        self.dav.handle(user, req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: Method, path: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_a_plain_browser_visit_of_root_is_redirected() {
        let html = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        assert!(is_browser_visit_of_root(&parts(Method::GET, "/", &[html])));
        assert!(is_browser_visit_of_root(&parts(Method::HEAD, "/", &[html])));
        assert!(!is_browser_visit_of_root(&parts(Method::GET, "/", &[])));
        assert!(!is_browser_visit_of_root(&parts(
            Method::GET,
            "/",
            &[html, ("authorization", "Basic eDp5")]
        )));
        assert!(!is_browser_visit_of_root(&parts(
            Method::OPTIONS,
            "/",
            &[html]
        )));
        assert!(!is_browser_visit_of_root(&parts(
            Method::from_bytes(b"PROPFIND").unwrap(),
            "/",
            &[html]
        )));
        assert!(!is_browser_visit_of_root(&parts(
            Method::GET,
            "/dav/",
            &[html]
        )));
    }

    #[test]
    fn web_paths() {
        assert!(is_web("/web") && is_web("/web/") && is_web("/web/login"));
        assert!(!is_web("/webx") && !is_web("/dav/web/"));
    }
}
