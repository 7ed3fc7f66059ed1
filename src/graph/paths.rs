//! URL building for Graph calls (reference/graph.md §1.2, §3, §4.1, §5.1).
//!
//! Ids are opaque and case-sensitive, and some contain `/`: every id path segment is
//! percent-encoded, never pasted raw. Query values (`$filter`, `$expand`) are encoded
//! with `%20` for spaces (never `+`), and string literals inside OData expressions
//! double their single quotes.

use super::client::Mailbox;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters that may not appear raw in a path segment (RFC 3986 `pchar`), plus `+`
/// (some front ends read it as a space).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'+');

/// Characters encoded inside a query value: the segment set plus the pair delimiter
/// `&` (`=` stays readable, as in Graph's own `$expand=…($filter=…)` examples: servers
/// split a pair at its first `=`).
const QUERY_VALUE: &AsciiSet = &SEGMENT.add(b'&');

/// One percent-encoded path segment.
pub fn segment(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// One percent-encoded query value.
pub fn query_value(v: &str) -> String {
    utf8_percent_encode(v, QUERY_VALUE).to_string()
}

/// An OData string literal: `'…'` with embedded quotes doubled.
pub fn odata_string(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// The mailbox prefix, relative to the version root: `me` or `users/{id}`.
pub fn mailbox(mb: &Mailbox) -> String {
    match mb {
        Mailbox::Me => "me".to_owned(),
        Mailbox::User(id) => format!("users/{}", segment(id)),
    }
}

/// `$expand` value that reads the given single-value extended properties (§5.1), or
/// `None` when there are none to read.
pub fn expand_extended(ids: &[&str]) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    let filter = ids
        .iter()
        .map(|id| format!("id eq {}", odata_string(id)))
        .collect::<Vec<_>>()
        .join(" or ");
    Some(format!("singleValueExtendedProperties($filter={filter})"))
}

/// `$filter` value matching contacts whose extended property `id` equals `value` (§5.1).
pub fn filter_extended(id: &str, value: &str) -> String {
    format!(
        "singleValueExtendedProperties/any(ep: ep/id eq {} and ep/value eq {})",
        odata_string(id),
        odata_string(value)
    )
}

/// Append `key=value` query pairs (values encoded, keys such as `$top` kept literal).
pub fn with_query(path: String, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path;
    }
    let q = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", query_value(v)))
        .collect::<Vec<_>>()
        .join("&");
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{q}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_slashes_and_plus_are_encoded() {
        assert_eq!(segment("AAMk/a+b=="), "AAMk%2Fa%2Bb==");
        assert_eq!(segment("plain-id_1="), "plain-id_1=");
        assert_eq!(
            mailbox(&Mailbox::User("a b@contoso.com".into())),
            "users/a%20b@contoso.com"
        );
    }

    #[test]
    fn expand_and_filter_quote_literals() {
        assert_eq!(expand_extended(&[]), None);
        assert_eq!(
            expand_extended(&["String {g} Name a", "String {g} Name b"]).unwrap(),
            "singleValueExtendedProperties($filter=id eq 'String {g} Name a' or id eq 'String {g} Name b')"
        );
        assert_eq!(
            filter_extended("String {g} Name uid", "o'brien"),
            "singleValueExtendedProperties/any(ep: ep/id eq 'String {g} Name uid' and ep/value eq 'o''brien')"
        );
    }

    #[test]
    fn query_values_use_percent_twenty_and_encode_delimiters() {
        let url = with_query(
            "me/contacts".into(),
            &[("$top", "1000".into()), ("$filter", "a eq 'x&y=z'".into())],
        );
        assert_eq!(url, "me/contacts?$top=1000&$filter=a%20eq%20'x%26y=z'");
        assert_eq!(
            with_query("x?a=1".into(), &[("b", "2".into())]),
            "x?a=1&b=2"
        );
    }
}
