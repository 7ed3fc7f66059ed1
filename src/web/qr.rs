//! The QR code of the DAVx5 setup link, as SVG.
//!
//! DAVx5 opens `carddav://` (plain HTTP) and `carddavs://` (HTTPS) links with its login
//! screen filled in (DAVx5 manual, "Integration / API": implicit intent; a QR scanner
//! hands the scanned link to it). The link carries the server and the user name, never
//! the password: a QR code on a screen is easy to photograph.

use super::config::PublicUrl;
use qrcode::QrCode;
use qrcode::render::svg;

/// `carddav[s]://user@host[:port]/`: DAVx5 discovers the rest from `/`.
pub fn davx5_link(public_url: &PublicUrl, user: &str) -> String {
    let scheme = if public_url.tls() {
        "carddavs"
    } else {
        "carddav"
    };
    let encoded: String =
        percent_encoding::utf8_percent_encode(user, crate::dav::path::SEGMENT).to_string();
    let default_port = if public_url.tls() { 443 } else { 80 };
    let port = public_url.port();
    let authority = if port == default_port {
        public_url.host()
    } else {
        format!("{}:{port}", public_url.host())
    };
    format!("{scheme}://{}@{authority}/", encoded.replace('@', "%40"))
}

/// `data` as an SVG image.
pub fn svg(data: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::new(data.as_bytes())?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_names_user_and_server_for_davx5() {
        let https = PublicUrl::parse("https://contacts.example.org").unwrap();
        assert_eq!(
            davx5_link(&https, "alice@example.org"),
            "carddavs://alice%40example.org@contacts.example.org/"
        );
        let local = PublicUrl::parse("http://127.0.0.1:5232").unwrap();
        assert_eq!(davx5_link(&local, "bob"), "carddav://bob@127.0.0.1:5232/");
        let parsed = url::Url::parse(&davx5_link(&https, "alice@example.org")).unwrap();
        assert_eq!(parsed.username(), "alice%40example.org");
        assert_eq!(parsed.host_str(), Some("contacts.example.org"));
    }

    #[test]
    fn svg_is_a_square_image() {
        let out = svg("carddavs://a%40b@example.org/").unwrap();
        let attr = |name: &str| -> u32 {
            let at = out.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            out[at..].split('"').next().unwrap().parse().unwrap()
        };
        assert!(
            out.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{out}"
        );
        assert_eq!(attr("width"), attr("height"));
        assert!(attr("width") >= 200);
        assert_eq!(out, svg("carddavs://a%40b@example.org/").unwrap());
        assert_ne!(out, svg("carddavs://c%40d@example.org/").unwrap());
    }
}
