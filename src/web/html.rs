//! HTML output of the onboarding page: escaping and the page frame.
//!
//! Every value that did not come from this file goes through [`Esc`] (HTML 5 §13.1:
//! `&`, `<`, `>`, `"` and `'` escaped, so it is safe in text and in quoted attribute
//! values). No script anywhere; the style sheet is a file of its own (`/web/style.css`)
//! so the Content-Security-Policy needs no `unsafe-inline`.

use std::fmt;

/// Displays its text HTML-escaped.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// `text`, HTML-escaped.
pub fn escape(text: &str) -> String {
    Esc(text).to_string()
}

/// A whole page: `body` is trusted HTML built with [`Esc`].
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"same-origin\">\
         <title>{} · cardbridge</title><link rel=\"stylesheet\" href=\"/web/style.css\"></head>\
         <body><header><span class=\"brand\">cardbridge</span> \
         <span class=\"tagline\">Outlook contacts for any CardDAV app</span></header>\
         <main>\n{body}\n</main></body></html>\n",
        Esc(title)
    )
}

/// The style sheet.
pub const STYLE: &str = "\
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--accent:#0f6cbd;--ok:#e6f4ea;--warn:#fff4e5;--bad:#fdecea}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:#f6f8fa}
header{background:#fff;border-bottom:1px solid var(--line);padding:.8rem 1.5rem}
.brand{font-weight:700;font-size:1.2rem;color:var(--accent)}
.tagline{color:var(--muted);margin-left:.6rem}
main{max-width:52rem;margin:1.5rem auto;padding:0 1rem}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.4rem;margin-bottom:1.2rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:.2rem 0 .6rem}
code,.secret{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.secret{display:inline-block;font-size:1.35rem;letter-spacing:.04em;background:var(--ok);padding:.3rem .7rem;border-radius:6px;user-select:all}
.notice{background:var(--warn);border-color:#f0c36d}
.error{background:var(--bad);border-color:#e5a0a0}
.fresh{background:var(--ok);border-color:#9fd5a8}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dt{color:var(--muted)}dd{margin:0;word-break:break-all}
.button,button{display:inline-block;font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;text-decoration:none;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:#fff;color:#b42318;border-color:#b42318}
form.inline{display:inline;margin:0}
.signin{font-size:1.1rem;padding:.7rem 1.4rem}
.qr{float:right;margin:0 0 .5rem 1rem;width:180px;height:180px;border:1px solid var(--line)}
.muted{color:var(--muted)}
ol{padding-left:1.3rem}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain text é"), "plain text é");
        assert_eq!(escape(""), "");
        assert_eq!(
            format!("<b title=\"{}\">", Esc("a\"b")),
            "<b title=\"a&quot;b\">"
        );
    }

    #[test]
    fn page_escapes_the_title_and_links_the_style_sheet() {
        let p = page("<x>", "<p>body</p>");
        assert!(p.contains("<title>&lt;x&gt; · cardbridge</title>"));
        assert!(p.contains("<p>body</p>"));
        assert!(p.contains("href=\"/web/style.css\""));
        assert!(!p.contains("<script"));
    }
}
