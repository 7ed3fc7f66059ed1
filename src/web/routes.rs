//! The requests of the onboarding page, all under `/web/`:
//!
//! | request                          | answer                                        |
//! |----------------------------------|-----------------------------------------------|
//! | `GET /web/`                      | account page with a session, else sign-in     |
//! | `GET /web/login`                 | 303 to the authority (starts a sign-in)       |
//! | `GET /web/callback`              | end of the sign-in, 303 to `/web/`            |
//! | `GET /web/style.css`             | the style sheet                               |
//! | `GET /web/qr.svg`                | QR code of the DAVx5 link                     |
//! | `GET /web/profile.mobileconfig`  | Apple profile without password                |
//! | `POST /web/profile.mobileconfig` | same; `include_password=1` adds the new one   |
//! | `POST /web/passwords/new`        | another app password, shown once             |
//! | `POST /web/passwords/revoke`     | revoke app password `id`                      |
//! | `POST /web/logout`               | end the session                               |
//!
//! Every POST needs the session and its CSRF token, and no foreign `Origin`.

use super::WebApp;
use super::pages::{self, AccountPage};
use super::respond::{self, LOGIN_COOKIE, SESSION_COOKIE};
use super::session::{FreshPassword, SessionView};
use super::{mobileconfig, qr};
use crate::dav::DavBody;
use crate::server::users::UserError;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::time::{Instant, SystemTime};

/// Why a form POST was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PostRefused {
    /// `Origin` names another site.
    ForeignOrigin,
    /// No live session (expired, signed out).
    NoSession,
    /// The CSRF token is missing or not the session's.
    Csrf,
}

impl PostRefused {
    fn response(self) -> Response<DavBody> {
        let why = match self {
            PostRefused::NoSession => return respond::redirect("/web/"),
            PostRefused::ForeignOrigin => {
                "The form was sent from another site. Open this page at its public address and try again."
            }
            PostRefused::Csrf => {
                "The form is out of date or did not come from this page. Reload the page and try again."
            }
        };
        respond::html(
            StatusCode::FORBIDDEN,
            pages::problem("Request refused", why),
        )
    }
}

/// A signed-in request: session id and what it holds.
struct Signed {
    id: String,
    view: SessionView,
}

impl WebApp {
    /// Answer one request under `/web`.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<DavBody> {
        let head = req.method() == Method::HEAD;
        let r = self.route(req, Instant::now()).await;
        if head {
            let (parts, _) = r.into_parts();
            return Response::from_parts(
                parts,
                Empty::new().map_err(|never| match never {}).boxed(),
            );
        }
        r
    }

    async fn route(&self, req: Request<Bytes>, now: Instant) -> Response<DavBody> {
        let get = matches!(*req.method(), Method::GET | Method::HEAD);
        let post = req.method() == Method::POST;
        let path = req.uri().path().to_owned();
        match path.as_str() {
            "/web" | "/web/" if get => self.home(&req, now),
            "/web/style.css" if get => respond::style(),
            "/web/login" if get => {
                let client = req
                    .extensions()
                    .get::<crate::server::ClientAddr>()
                    .map(|c| c.0);
                self.start_sign_in(client, now)
            }
            "/web/callback" if get => {
                let query = req.uri().query().unwrap_or("");
                let login = respond::cookie(req.headers(), LOGIN_COOKIE);
                self.callback(query, login, now).await
            }
            "/web/qr.svg" if get => match self.signed(&req, now) {
                Some(s) => self.qr(&s.view),
                None => respond::redirect("/web/"),
            },
            "/web/profile.mobileconfig" if get => match self.signed(&req, now) {
                Some(s) => self.profile(&s, false, now),
                None => respond::redirect("/web/"),
            },
            "/web/profile.mobileconfig"
            | "/web/passwords/new"
            | "/web/passwords/revoke"
            | "/web/logout"
                if post =>
            {
                let (s, form) = match self.checked_post(&req, now) {
                    Ok(ok) => ok,
                    Err(refused) => return refused.response(),
                };
                match path.as_str() {
                    "/web/profile.mobileconfig" => {
                        let include = form.get("include_password").is_some_and(|v| v == "1");
                        self.profile(&s, include, now)
                    }
                    "/web/passwords/new" => self.new_password(&s, now).await,
                    "/web/passwords/revoke" => {
                        self.revoke(&s, form.get("id").map(String::as_str).unwrap_or(""))
                    }
                    _ => self.logout(&s),
                }
            }
            "/web"
            | "/web/"
            | "/web/style.css"
            | "/web/login"
            | "/web/callback"
            | "/web/qr.svg"
            | "/web/profile.mobileconfig"
            | "/web/passwords/new"
            | "/web/passwords/revoke"
            | "/web/logout" => {
                let mut r = respond::html(
                    StatusCode::METHOD_NOT_ALLOWED,
                    pages::problem("Not allowed", "This address does not take that method."),
                );
                let allow = if post { "GET, HEAD" } else { "POST" };
                r.headers_mut()
                    .insert(header::ALLOW, http::HeaderValue::from_static(allow));
                r
            }
            _ => respond::html(
                StatusCode::NOT_FOUND,
                pages::problem("Not found", "There is no such page."),
            ),
        }
    }

    fn signed(&self, req: &Request<Bytes>, now: Instant) -> Option<Signed> {
        let id = respond::cookie(req.headers(), SESSION_COOKIE)?;
        let view = self.sessions.get(id, now)?;
        Some(Signed {
            id: id.to_owned(),
            view,
        })
    }

    /// The session, CSRF token and `Origin` of a form POST, and its fields.
    fn checked_post(
        &self,
        req: &Request<Bytes>,
        now: Instant,
    ) -> Result<(Signed, HashMap<String, String>), PostRefused> {
        if let Some(origin) = req.headers().get(header::ORIGIN)
            && origin.as_bytes() != self.settings.public_url.origin().as_bytes()
        {
            return Err(PostRefused::ForeignOrigin);
        }
        let s = self.signed(req, now).ok_or(PostRefused::NoSession)?;
        let form: HashMap<String, String> = url::form_urlencoded::parse(req.body())
            .into_owned()
            .collect();
        let token = form.get("csrf").map(String::as_str).unwrap_or("");
        if !self.sessions.check_csrf(&s.id, token, now) {
            return Err(PostRefused::Csrf);
        }
        Ok((s, form))
    }

    fn home(&self, req: &Request<Bytes>, now: Instant) -> Response<DavBody> {
        let Some(s) = self.signed(req, now) else {
            return respond::html(StatusCode::OK, pages::landing(None));
        };
        let passwords = match self.users.app_passwords(&s.view.user) {
            Ok(p) => p,
            Err(UserError::NotFound(_)) => {
                // Removed by an administrator meanwhile.
                self.sessions.end(&s.id);
                return respond::html(
                    StatusCode::OK,
                    pages::landing(Some(
                        "Your CardDAV user was removed. Sign in to create it again.",
                    )),
                );
            }
            Err(e) => {
                tracing::error!(user = %s.view.user, "web: reading app passwords failed: {e}");
                return respond::html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    pages::problem("Something went wrong", "Your account could not be read."),
                );
            }
        };
        let shown = self.sessions.take_password_to_show(&s.id);
        let notice = self.sessions.take_notice(&s.id);
        let status = self.backend.status(&s.view.user);
        let server_url = self.server_url();
        let principal_url = self.principal_url(&s.view.user);
        let link = qr::davx5_link(&self.settings.public_url, &s.view.user);
        let page = pages::account(&AccountPage {
            user: &s.view.user,
            upn: &s.view.upn,
            csrf: &s.view.csrf,
            server_url: &server_url,
            principal_url: &principal_url,
            davx5_link: &link,
            new_password: shown.as_ref().map(|(_, p)| p.expose_secret()),
            profile_can_include_password: self.sessions.password_for_profile(&s.id, now).is_some(),
            notice: notice.as_deref(),
            passwords: &passwords,
            status: status.as_ref(),
            now: SystemTime::now(),
        });
        respond::html(StatusCode::OK, page)
    }

    fn qr(&self, s: &SessionView) -> Response<DavBody> {
        let link = qr::davx5_link(&self.settings.public_url, &s.user);
        match qr::svg(&link) {
            Ok(svg) => respond::with_type(StatusCode::OK, "image/svg+xml", svg),
            Err(e) => {
                tracing::error!("web: QR code failed: {e}");
                respond::with_type(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    "QR code failed\n",
                )
            }
        }
    }

    fn profile(&self, s: &Signed, include_password: bool, now: Instant) -> Response<DavBody> {
        let password = if include_password {
            let fresh = self.sessions.password_for_profile(&s.id, now);
            // Still one of the user's passwords (not revoked elsewhere)?
            let live = self.users.app_passwords(&s.view.user).unwrap_or_default();
            fresh.filter(|(id, _)| live.iter().any(|p| &p.id == id))
        } else {
            None
        };
        let principal = self.principal_url(&s.view.user);
        let spec = mobileconfig::ProfileSpec {
            public_url: &self.settings.public_url,
            user: &s.view.user,
            principal_url: &principal,
            password: password.as_ref().map(|(_, p)| p.expose_secret()),
        };
        match mobileconfig::profile(&spec) {
            Ok(bytes) => respond::download(
                mobileconfig::CONTENT_TYPE,
                &mobileconfig::file_name(&self.settings.public_url),
                bytes,
            ),
            Err(e) => {
                tracing::error!("web: writing the profile failed: {e}");
                respond::html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    pages::problem("Something went wrong", "The profile could not be written."),
                )
            }
        }
    }

    async fn new_password(&self, s: &Signed, now: Instant) -> Response<DavBody> {
        match super::signin::new_app_password(self.users.clone(), s.view.user.clone()).await {
            Ok((Some((id, pw)), _)) => {
                self.sessions
                    .set_fresh(&s.id, Some(FreshPassword::new(id, pw, now)));
            }
            Ok((None, notice)) => {
                if let Some(n) = notice {
                    self.sessions.set_notice(&s.id, n);
                }
            }
            Err(e) => {
                tracing::error!(user = %s.view.user, "web: creating an app password failed: {e}");
                self.sessions
                    .set_notice(&s.id, "Creating the app password failed.".into());
            }
        }
        respond::redirect("/web/")
    }

    fn revoke(&self, s: &Signed, id: &str) -> Response<DavBody> {
        let notice = match self.users.revoke_app_password(&s.view.user, id) {
            Ok(()) => {
                self.sessions.forget_fresh(&s.id, id);
                tracing::info!(user = %s.view.user, "web: app password revoked");
                format!("App password {id} revoked: devices using it are signed out.")
            }
            Err(UserError::NoSuchPassword(..)) => format!("There is no app password {id}."),
            Err(e) => {
                tracing::error!(user = %s.view.user, "web: revoking failed: {e}");
                "Revoking failed.".into()
            }
        };
        self.sessions.set_notice(&s.id, notice);
        respond::redirect("/web/")
    }

    fn logout(&self, s: &Signed) -> Response<DavBody> {
        self.sessions.end(&s.id);
        let mut r = respond::redirect("/web/");
        respond::set_cookie(
            &mut r,
            SESSION_COOKIE,
            "",
            0,
            self.settings.public_url.tls(),
        );
        r
    }
}
