//! Server-side state of the onboarding page: sign-ins under way and signed-in browser
//! sessions, both in memory (a restart signs everyone out, which costs one click).
//!
//! - A sign-in under way is keyed by its OAuth `state` and bound to the browser that
//!   started it by a random login cookie, so a callback URL replayed in another browser
//!   (login CSRF, RFC 6749 §10.12) finds nothing. It holds the PKCE verifier and the
//!   OpenID nonce, lives [`PENDING_LIFETIME`] and is taken out once.
//! - A session is a random 256-bit id in an `HttpOnly` cookie; it holds the CardDAV user,
//!   the CSRF token every form must echo, the app password just created (shown once, and
//!   kept [`FRESH_LIFETIME`] for a configuration profile the person asks to include it
//!   in) and a one-time notice. It ends after the configured lifetime or on sign-out.
//!
//! Both tables are bounded: expired entries are swept when full, then new ones refused.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine};
use secrecy::SecretString;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a sign-in may take at Microsoft.
pub const PENDING_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a new app password may still go into a configuration profile.
pub const FRESH_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Most sign-ins under way / sessions held at once.
pub const MAX_ENTRIES: usize = 10_000;
/// Sign-ins under way from one client address (IPv6: one /64): enough for a household
/// behind one NAT, too few for one client to fill the table.
pub const MAX_PENDING_PER_CLIENT: usize = 20;

/// A 256-bit random token, URL- and cookie-safe.
pub fn random_token() -> String {
    BASE64_URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Byte comparison whose time does not depend on where the inputs differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A sign-in started by a browser.
pub struct Pending {
    pub verifier: SecretString,
    pub nonce: String,
    login_cookie: String,
    client: Option<IpAddr>,
    expires: Instant,
}

/// An app password created in this session.
pub struct FreshPassword {
    pub id: String,
    pub password: SecretString,
    shown: bool,
    created: Instant,
}

impl FreshPassword {
    pub fn new(id: String, password: SecretString, now: Instant) -> Self {
        Self {
            id,
            password,
            shown: false,
            created: now,
        }
    }
}

struct Session {
    user: String,
    upn: String,
    csrf: String,
    expires: Instant,
    fresh: Option<FreshPassword>,
    notice: Option<String>,
}

/// What a request may read of its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The canonical CardDAV user name.
    pub user: String,
    /// Who signed in at Microsoft.
    pub upn: String,
    pub csrf: String,
}

/// The tables are full of live entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins under way; try again in a few minutes")]
pub struct Full;

#[derive(Default)]
struct Tables {
    pending: HashMap<String, Pending>,
    sessions: HashMap<String, Session>,
}

/// Sign-ins under way and sessions.
pub struct Sessions {
    tables: Mutex<Tables>,
    lifetime: Duration,
}

impl Sessions {
    pub fn new(lifetime: Duration) -> Self {
        Self {
            tables: Mutex::new(Tables::default()),
            lifetime,
        }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember a sign-in under way, bound to the browser holding `login_cookie`.
    pub fn begin_sign_in(
        &self,
        state: &str,
        login_cookie: &str,
        verifier: SecretString,
        nonce: String,
        client: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Full> {
        let mut t = self.tables();
        if client.is_some()
            && t.pending
                .values()
                .filter(|p| p.client == client && p.expires > now)
                .count()
                >= MAX_PENDING_PER_CLIENT
        {
            return Err(Full);
        }
        if t.pending.len() >= MAX_ENTRIES {
            t.pending.retain(|_, p| p.expires > now);
            if t.pending.len() >= MAX_ENTRIES {
                return Err(Full);
            }
        }
        t.pending.insert(
            state.to_owned(),
            Pending {
                verifier,
                nonce,
                login_cookie: login_cookie.to_owned(),
                client,
                expires: now + PENDING_LIFETIME,
            },
        );
        Ok(())
    }

    /// Take out the sign-in of `state` if it is live and this browser started it.
    /// Used once: a second callback with the same state finds nothing.
    pub fn finish_sign_in(&self, state: &str, login_cookie: &str, now: Instant) -> Option<Pending> {
        let mut t = self.tables();
        let p = t.pending.remove(state)?;
        (p.expires > now && same_secret(&p.login_cookie, login_cookie)).then_some(p)
    }

    /// Start a session for `user`; returns its id (the cookie value).
    pub fn create(
        &self,
        user: &str,
        upn: &str,
        fresh: Option<FreshPassword>,
        notice: Option<String>,
        now: Instant,
    ) -> Result<String, Full> {
        let mut t = self.tables();
        if t.sessions.len() >= MAX_ENTRIES {
            t.sessions.retain(|_, s| s.expires > now);
            if t.sessions.len() >= MAX_ENTRIES {
                return Err(Full);
            }
        }
        let id = random_token();
        t.sessions.insert(
            id.clone(),
            Session {
                user: user.to_owned(),
                upn: upn.to_owned(),
                csrf: random_token(),
                expires: now + self.lifetime,
                fresh,
                notice,
            },
        );
        Ok(id)
    }

    /// The live session `id`; an expired one is dropped.
    pub fn get(&self, id: &str, now: Instant) -> Option<SessionView> {
        let mut t = self.tables();
        let live = t.sessions.get(id).map(|s| s.expires > now)?;
        if !live {
            t.sessions.remove(id);
            return None;
        }
        t.sessions.get(id).map(|s| SessionView {
            user: s.user.clone(),
            upn: s.upn.clone(),
            csrf: s.csrf.clone(),
        })
    }

    /// Whether `token` is the CSRF token of the live session `id`.
    pub fn check_csrf(&self, id: &str, token: &str, now: Instant) -> bool {
        self.get(id, now)
            .is_some_and(|s| same_secret(&s.csrf, token))
    }

    /// The new app password to display, exactly once per password.
    pub fn take_password_to_show(&self, id: &str) -> Option<(String, SecretString)> {
        let mut t = self.tables();
        let fresh = t.sessions.get_mut(id)?.fresh.as_mut()?;
        if fresh.shown {
            return None;
        }
        fresh.shown = true;
        Some((fresh.id.clone(), fresh.password.clone()))
    }

    /// The new app password for a configuration profile, while it is young enough.
    pub fn password_for_profile(&self, id: &str, now: Instant) -> Option<(String, SecretString)> {
        let t = self.tables();
        let fresh = t.sessions.get(id)?.fresh.as_ref()?;
        (now.saturating_duration_since(fresh.created) < FRESH_LIFETIME)
            .then(|| (fresh.id.clone(), fresh.password.clone()))
    }

    /// Replace the session's new app password (another one was created).
    pub fn set_fresh(&self, id: &str, fresh: Option<FreshPassword>) {
        if let Some(s) = self.tables().sessions.get_mut(id) {
            s.fresh = fresh;
        }
    }

    /// Forget the session's new app password if it is `password_id` (it was revoked).
    pub fn forget_fresh(&self, id: &str, password_id: &str) {
        if let Some(s) = self.tables().sessions.get_mut(id)
            && s.fresh.as_ref().is_some_and(|f| f.id == password_id)
        {
            s.fresh = None;
        }
    }

    /// Leave a notice for the next page of this session.
    pub fn set_notice(&self, id: &str, notice: String) {
        if let Some(s) = self.tables().sessions.get_mut(id) {
            s.notice = Some(notice);
        }
    }

    /// The pending notice, once.
    pub fn take_notice(&self, id: &str) -> Option<String> {
        self.tables().sessions.get_mut(id)?.notice.take()
    }

    /// Sign out.
    pub fn end(&self, id: &str) {
        self.tables().sessions.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn sessions() -> Sessions {
        Sessions::new(Duration::from_secs(1800))
    }

    #[test]
    fn sign_in_state_is_single_use_bound_to_the_browser_and_expires() {
        let s = sessions();
        let t0 = Instant::now();
        let start = |state: &str| {
            s.begin_sign_in(
                state,
                "cookie-a",
                SecretString::from("v"),
                "n".into(),
                None,
                t0,
            )
            .unwrap()
        };
        start("st1");
        assert!(
            s.finish_sign_in("st1", "cookie-b", t0).is_none(),
            "other browser"
        );
        assert!(
            s.finish_sign_in("st1", "cookie-a", t0).is_none(),
            "consumed by the try"
        );
        start("st2");
        let p = s.finish_sign_in("st2", "cookie-a", t0).unwrap();
        assert_eq!((p.verifier.expose_secret(), p.nonce.as_str()), ("v", "n"));
        assert!(
            s.finish_sign_in("st2", "cookie-a", t0).is_none(),
            "single use"
        );
        start("st3");
        assert!(
            s.finish_sign_in("st3", "cookie-a", t0 + PENDING_LIFETIME)
                .is_none()
        );
        assert!(s.finish_sign_in("unknown", "cookie-a", t0).is_none());
    }

    #[test]
    fn one_client_cannot_fill_the_sign_in_table() {
        let s = sessions();
        let t0 = Instant::now();
        let a: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        let b: Option<IpAddr> = Some("192.0.2.2".parse().unwrap());
        let start = |state: String, client, at| {
            s.begin_sign_in(&state, "c", SecretString::from("v"), "n".into(), client, at)
        };
        for i in 0..MAX_PENDING_PER_CLIENT {
            start(format!("a{i}"), a, t0).unwrap();
        }
        assert!(start("a-more".into(), a, t0).is_err(), "over the cap");
        start("b0".into(), b, t0).unwrap(); // another client is not affected
        // A finished sign-in frees its place; expired ones stop counting.
        assert!(s.finish_sign_in("a0", "c", t0).is_some());
        start("a-again".into(), a, t0).unwrap();
        start("a-later".into(), a, t0 + PENDING_LIFETIME).unwrap();
    }

    #[test]
    fn sessions_expire_and_csrf_must_match_the_session() {
        let s = sessions();
        let t0 = Instant::now();
        let a = s.create("alice", "alice@x", None, None, t0).unwrap();
        let b = s.create("bob", "bob@x", None, None, t0).unwrap();
        assert_ne!(a, b);
        let va = s.get(&a, t0).unwrap();
        let vb = s.get(&b, t0).unwrap();
        assert_eq!(va.user, "alice");
        assert_ne!(va.csrf, vb.csrf);
        assert!(s.check_csrf(&a, &va.csrf, t0));
        assert!(!s.check_csrf(&a, &vb.csrf, t0), "another session's token");
        assert!(!s.check_csrf(&a, "", t0));
        assert!(!s.check_csrf("nope", &va.csrf, t0));
        let later = t0 + Duration::from_secs(1800);
        assert!(s.get(&a, later).is_none(), "expired");
        assert!(!s.check_csrf(&b, &vb.csrf, later));
        assert!(s.get(&a, t0).is_none(), "an expired session is dropped");
        s.end(&b);
        assert!(s.get(&b, t0).is_none());
    }

    #[test]
    fn a_new_password_is_shown_once_and_offered_to_profiles_for_a_while() {
        let s = sessions();
        let t0 = Instant::now();
        let fresh = FreshPassword::new("id1".into(), SecretString::from("pw"), t0);
        let id = s.create("alice", "alice@x", Some(fresh), None, t0).unwrap();
        let (pid, pw) = s.take_password_to_show(&id).unwrap();
        assert_eq!((pid.as_str(), pw.expose_secret()), ("id1", "pw"));
        assert!(s.take_password_to_show(&id).is_none(), "only once");
        assert!(s.password_for_profile(&id, t0).is_some());
        assert!(s.password_for_profile(&id, t0 + FRESH_LIFETIME).is_none());
        s.forget_fresh(&id, "other");
        assert!(s.password_for_profile(&id, t0).is_some());
        s.forget_fresh(&id, "id1");
        assert!(s.password_for_profile(&id, t0).is_none(), "revoked");
    }

    #[test]
    fn notices_are_taken_once() {
        let s = sessions();
        let t0 = Instant::now();
        let id = s
            .create("a", "a@x", None, Some("hello".into()), t0)
            .unwrap();
        assert_eq!(s.take_notice(&id).as_deref(), Some("hello"));
        assert_eq!(s.take_notice(&id), None);
        s.set_notice(&id, "again".into());
        assert_eq!(s.take_notice(&id).as_deref(), Some("again"));
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
    }
}
