//! HTTP Basic authentication (RFC 7617) on the server side: parsing `Authorization`
//! and building the `WWW-Authenticate` challenge.
//!
//! Credentials are decoded as UTF-8 (we advertise `charset="UTF-8"`, RFC 7617 §2.1);
//! the user-id ends at the first colon, so the password may contain colons. The
//! password is wrapped in a `SecretString` as soon as it is decoded.

use base64::prelude::{BASE64_STANDARD, Engine as _};
use secrecy::SecretString;

/// Decoded Basic credentials.
pub struct Credentials {
    pub user: String,
    pub password: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// Longest `Authorization` value we decode (user + password are far shorter).
const MAX_HEADER: usize = 4096;

/// Parse an `Authorization` header value; `None` when it is not usable Basic
/// credentials (other scheme, bad base64, not UTF-8, no colon).
pub fn parse_basic(value: &http::HeaderValue) -> Option<Credentials> {
    let value = value.to_str().ok()?;
    if value.len() > MAX_HEADER {
        return None;
    }
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASE64_STANDARD.decode(token.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials {
        user: user.to_owned(),
        password: SecretString::from(password.to_owned()),
    })
}

/// The `WWW-Authenticate` value for `realm` (quotes and backslashes escaped).
pub fn challenge(realm: &str) -> http::HeaderValue {
    let escaped: String = realm
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    http::HeaderValue::from_str(&format!("Basic realm=\"{escaped}\", charset=\"UTF-8\""))
        .unwrap_or_else(|_| {
            http::HeaderValue::from_static("Basic realm=\"cardbridge\", charset=\"UTF-8\"")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn header(user_pass: &str) -> http::HeaderValue {
        http::HeaderValue::from_str(&format!("Basic {}", BASE64_STANDARD.encode(user_pass)))
            .unwrap()
    }

    #[test]
    fn parses_rfc7617_examples() {
        // RFC 7617 §2 example.
        let c = parse_basic(&http::HeaderValue::from_static(
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        ))
        .unwrap();
        assert_eq!(c.user, "Aladdin");
        assert_eq!(c.password.expose_secret(), "open sesame");
        // §2.1 example: UTF-8 user "test", password "123£".
        let c = parse_basic(&http::HeaderValue::from_static("Basic dGVzdDoxMjPCow==")).unwrap();
        assert_eq!(c.password.expose_secret(), "123£");
        // Scheme is case-insensitive; the password may contain colons.
        let mut h = header("bob:a:b");
        h = http::HeaderValue::from_str(&h.to_str().unwrap().replace("Basic", "bAsIc")).unwrap();
        let c = parse_basic(&h).unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.expose_secret()),
            ("bob", "a:b")
        );
    }

    #[test]
    fn rejects_garbage() {
        for v in ["Bearer abc", "Basic", "Basic !!!", "Basic bm9jb2xvbg=="] {
            assert!(
                parse_basic(&http::HeaderValue::from_static(v)).is_none(),
                "{v}"
            );
        }
        let latin1 = BASE64_STANDARD.encode([b'a', b':', 0xa3]);
        assert!(
            parse_basic(&http::HeaderValue::from_str(&format!("Basic {latin1}")).unwrap())
                .is_none()
        );
        let c = parse_basic(&header("u:secret")).unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn challenge_escapes_realm() {
        assert_eq!(
            challenge("cardbridge"),
            "Basic realm=\"cardbridge\", charset=\"UTF-8\""
        );
        assert_eq!(
            challenge("a\"b"),
            "Basic realm=\"a\\\"b\", charset=\"UTF-8\""
        );
    }
}
