//! Request bodies (PROPFIND, REPORT, PROPPATCH, MKCOL) parsed into a small tree of
//! namespace-resolved [`Element`]s, with the limits of issue 10: no DOCTYPE (so no
//! entity expansion, XML 1.0 §2.8), a nesting depth limit, an element count limit, only
//! the five predefined entities and character references (XML 1.0 §4.6, §4.1), UTF-8
//! only (RFC 4918 §8.2 lets servers refuse other encodings).
//!
//! The tree is walked by the method handlers; it holds only element names, attributes
//! (local names, lower-cased: vdirsyncer writes `Content-Type=`, reference/clients.md
//! §4) and the direct text of each element.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::QName;

/// Deepest element nesting accepted (the deepest real request, an addressbook-query
/// with a param-filter text-match, is 6 levels).
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one body (a multiget of 20,000 hrefs fits).
pub const MAX_ELEMENTS: usize = 50_000;

/// Why a request body was refused; each becomes a 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("request body is not UTF-8")]
    NotUtf8,
    #[error("DOCTYPE declarations are not accepted")]
    Doctype,
    #[error("XML nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} XML elements")]
    TooManyElements,
    #[error("undeclared namespace prefix {0:?}")]
    UnknownPrefix(String),
    #[error("undefined entity &{0};")]
    UnknownEntity(String),
    #[error("more than one root element")]
    MultipleRoots,
    #[error("no root element")]
    NoRoot,
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// One element of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: QName,
    /// Attributes without a prefix (and no `xmlns` declarations), names lower-cased.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Concatenated direct text and CDATA of this element, entities resolved.
    pub text: String,
}

impl Element {
    /// Whether this element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.name.is(ns, local)
    }

    /// First child named `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// Every child named `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    /// Attribute by lower-case local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Text with surrounding XML whitespace removed.
    pub fn trimmed_text(&self) -> &str {
        self.text
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }
}

/// Parse a request body. An empty (or whitespace-only) body is `Ok(None)`.
pub fn parse_body(body: &[u8]) -> Result<Option<Element>, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;

    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(n) => Ok(n.as_ref().to_owned()),
            ResolveResult::Unbound => Ok(String::new()),
            ResolveResult::Unknown(p) => Err(XmlError::UnknownPrefix(p)),
        };
        match event {
            Event::Start(start) => {
                let el = open(&reader, ns, &start, &mut count, stack.len(), root.is_some())?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = open(&reader, ns, &start, &mut count, stack.len(), root.is_some())?;
                close(el, &mut stack, &mut root);
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                } else if !t.trim().is_empty() {
                    return Err(XmlError::Malformed("text outside the root element".into()));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(XmlError::UnknownEntity(other.chars().take(64).collect()));
                        }
                    },
                    Err(e) => return Err(XmlError::Malformed(e.to_string())),
                };
                match stack.last_mut() {
                    Some(top) => top.text.push(ch),
                    None => {
                        return Err(XmlError::Malformed(
                            "reference outside the root element".into(),
                        ));
                    }
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "unclosed element at end of body".into(),
        ));
    }
    root.map(Some).ok_or(XmlError::NoRoot)
}

fn open(
    reader: &NsReader<&[u8]>,
    ns: Result<String, XmlError>,
    start: &BytesStart<'_>,
    count: &mut usize,
    depth: usize,
    have_root: bool,
) -> Result<Element, XmlError> {
    if depth == 0 && have_root {
        return Err(XmlError::MultipleRoots);
    }
    if depth >= MAX_DEPTH {
        return Err(XmlError::TooDeep);
    }
    *count += 1;
    if *count > MAX_ELEMENTS {
        return Err(XmlError::TooManyElements);
    }
    let ns = ns?;
    let local = start.local_name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (attr_ns, attr_local) = reader.resolver().resolve_attribute(key);
        if let ResolveResult::Unknown(p) = attr_ns {
            return Err(XmlError::UnknownPrefix(p));
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed(e.to_string()))?
            .into_owned();
        attrs.push((attr_local.as_ref().to_ascii_lowercase(), value));
    }
    Ok(Element {
        name: QName { ns, local },
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dav::xml::{NS_CARDDAV, NS_CS, NS_DAV};

    #[test]
    fn resolves_inline_prefixes_like_apple() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop>
 <B:addressbook-home-set xmlns:B="urn:ietf:params:xml:ns:carddav"/>
 <C:getctag xmlns:C="http://calendarserver.org/ns/"/><A:displayname/>
</A:prop></A:propfind>"#;
        let root = parse_body(body).unwrap().unwrap();
        assert!(root.is(NS_DAV, "propfind"));
        let prop = root.child(NS_DAV, "prop").unwrap();
        let names: Vec<_> = prop.children.iter().map(|c| c.name.clone()).collect();
        assert_eq!(
            names,
            vec![
                QName::new(NS_CARDDAV, "addressbook-home-set"),
                QName::new(NS_CS, "getctag"),
                QName::new(NS_DAV, "displayname"),
            ]
        );
    }

    #[test]
    fn default_namespace_entities_and_cdata() {
        let body = br#"<multiget xmlns="urn:ietf:params:xml:ns:carddav" xmlns:d="DAV:">
<d:href>/a/b&amp;c&#x41;.vcf</d:href><d:href><![CDATA[/x<y]]></d:href></multiget>"#;
        let root = parse_body(body).unwrap().unwrap();
        let hrefs: Vec<_> = root
            .children_named(NS_DAV, "href")
            .map(|e| e.text.clone())
            .collect();
        assert_eq!(hrefs, vec!["/a/b&cA.vcf", "/x<y"]);
    }

    #[test]
    fn attribute_names_are_case_insensitive() {
        let body = br#"<C:address-data xmlns:C="urn:ietf:params:xml:ns:carddav" Content-Type="text/vcard" version="4.0"/>"#;
        let root = parse_body(body).unwrap().unwrap();
        assert_eq!(root.attr("content-type"), Some("text/vcard"));
        assert_eq!(root.attr("version"), Some("4.0"));
    }

    #[test]
    fn rejects_hostile_input() {
        assert_eq!(parse_body(b"").unwrap(), None);
        assert_eq!(parse_body(b"  \r\n").unwrap(), None);
        assert_eq!(
            parse_body(b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><a>&lol;</a>"),
            Err(XmlError::Doctype)
        );
        assert!(matches!(
            parse_body(b"<a>&lol;</a>"),
            Err(XmlError::UnknownEntity(_))
        ));
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse_body(deep.as_bytes()), Err(XmlError::TooDeep));
        let ok_deep = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert!(parse_body(ok_deep.as_bytes()).is_ok());
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(parse_body(many.as_bytes()), Err(XmlError::TooManyElements));
        assert!(matches!(
            parse_body(b"<x:a/>"),
            Err(XmlError::UnknownPrefix(_))
        ));
        assert!(matches!(
            parse_body(b"<a></b>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            parse_body(b"<a><b></a>"),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(parse_body(b"<a>"), Err(XmlError::Malformed(_))));
        assert_eq!(parse_body(b"<a/><b/>"), Err(XmlError::MultipleRoots));
        assert_eq!(parse_body(b"<a>\xff</a>"), Err(XmlError::NotUtf8));
        assert!(matches!(parse_body(b"junk"), Err(XmlError::Malformed(_))));
        assert_eq!(
            parse_body(b"<!-- only a comment -->"),
            Err(XmlError::NoRoot)
        );
    }
}
