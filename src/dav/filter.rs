//! addressbook-query filters (RFC 6352 §10.5): `filter` (§10.5) with `test`
//! anyof/allof, `prop-filter` (§10.5.1) with `is-not-defined` (§10.5.3), `text-match`
//! (§10.5.4) and `param-filter` (§10.5.2), evaluated against a card's content lines.
//!
//! Collations (RFC 4790 §9, RFC 6352 §8.3): `i;octet`, `i;ascii-casemap` and
//! `i;unicode-casemap` (the default). The last is Unicode lower-casing followed by NFKD
//! (RFC 5051 §2 folds with the simple titlecase mapping, which std does not offer; the
//! two differ only for a handful of digraphs), so composed and decomposed accents and
//! compatibility forms (`ﬁ`, full-width letters) compare equal. Any other
//! collation is the `CARDDAV:supported-collation` precondition; an unknown
//! `match-type` or filter element is `CARDDAV:supported-filter`.
//!
//! Matching is per property instance: a prop-filter matches when one instance of the
//! property (group prefixes ignored, names case-insensitive) passes its text-matches
//! and param-filters combined by `test`, as in Xandikos `carddav.py`. Text matches
//! compare the property value with vCard escapes (`\,` `\;` `\n` `\\`) removed.

use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::xml::{Element, NS_CARDDAV};

/// How several tests combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    AnyOf,
    AllOf,
}

/// A collation (RFC 4790).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    Octet,
    AsciiCasemap,
    UnicodeCasemap,
}

/// `match-type` (RFC 6352 §10.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// `text-match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The search text, already folded by the collation.
    pub needle: String,
    pub collation: Collation,
    pub match_type: MatchType,
    pub negate: bool,
}

/// `param-filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFilter {
    /// Upper-case parameter name.
    pub name: String,
    pub is_not_defined: bool,
    pub text_match: Option<TextMatch>,
}

/// `prop-filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropFilter {
    /// Upper-case property name.
    pub name: String,
    pub test: Test,
    pub is_not_defined: bool,
    pub text_matches: Vec<TextMatch>,
    pub param_filters: Vec<ParamFilter>,
}

/// `filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub test: Test,
    pub props: Vec<PropFilter>,
}

fn unsupported(what: String) -> DavError {
    DavError::condition(Condition::SupportedFilter, what)
}

fn parse_test(el: &Element) -> DavResult<Test> {
    match el.attr("test") {
        None | Some("anyof") => Ok(Test::AnyOf),
        Some("allof") => Ok(Test::AllOf),
        Some(other) => Err(unsupported(format!("test={other:?} (anyof or allof)"))),
    }
}

impl Filter {
    /// A filter that matches every card (an absent `filter`).
    pub fn all() -> Filter {
        Filter {
            test: Test::AnyOf,
            props: Vec::new(),
        }
    }

    /// Parse `<C:filter>`.
    pub fn parse(el: &Element) -> DavResult<Filter> {
        let test = parse_test(el)?;
        let mut props = Vec::new();
        for c in &el.children {
            if !c.is(NS_CARDDAV, "prop-filter") {
                return Err(unsupported(format!("{} in filter", c.name)));
            }
            props.push(PropFilter::parse(c)?);
        }
        Ok(Filter { test, props })
    }

    /// Whether every card matches (so bodies need not be read).
    pub fn is_all(&self) -> bool {
        self.props.is_empty()
    }

    /// Evaluate against a card's bytes.
    pub fn matches(&self, card: &[u8]) -> bool {
        if self.props.is_empty() {
            return true;
        }
        let props = parse_card(card);
        combine(self.test, self.props.iter(), |p| p.matches(&props))
    }
}

impl PropFilter {
    fn parse(el: &Element) -> DavResult<PropFilter> {
        let name = el
            .attr("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| DavError::BadRequest("prop-filter needs a name".into()))?
            .to_ascii_uppercase();
        let mut f = PropFilter {
            name,
            test: parse_test(el)?,
            is_not_defined: false,
            text_matches: Vec::new(),
            param_filters: Vec::new(),
        };
        for c in &el.children {
            if c.is(NS_CARDDAV, "is-not-defined") {
                f.is_not_defined = true;
            } else if c.is(NS_CARDDAV, "text-match") {
                f.text_matches.push(TextMatch::parse(c)?);
            } else if c.is(NS_CARDDAV, "param-filter") {
                f.param_filters.push(ParamFilter::parse(c)?);
            } else {
                return Err(unsupported(format!("{} in prop-filter", c.name)));
            }
        }
        Ok(f)
    }

    fn matches(&self, props: &[CardProp]) -> bool {
        let mut instances = props.iter().filter(|p| p.name == self.name).peekable();
        if self.is_not_defined {
            return instances.peek().is_none();
        }
        let tests = self.text_matches.len() + self.param_filters.len();
        instances.any(|p| {
            if tests == 0 {
                return true;
            }
            let texts = self.text_matches.iter().map(|t| t.matches(&p.value));
            let params = self.param_filters.iter().map(|f| f.matches(p));
            let mut all = texts.chain(params);
            match self.test {
                Test::AnyOf => all.any(|b| b),
                Test::AllOf => all.all(|b| b),
            }
        })
    }
}

impl ParamFilter {
    fn parse(el: &Element) -> DavResult<ParamFilter> {
        let name = el
            .attr("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| DavError::BadRequest("param-filter needs a name".into()))?
            .to_ascii_uppercase();
        let mut f = ParamFilter {
            name,
            is_not_defined: false,
            text_match: None,
        };
        for c in &el.children {
            if c.is(NS_CARDDAV, "is-not-defined") {
                f.is_not_defined = true;
            } else if c.is(NS_CARDDAV, "text-match") {
                f.text_match = Some(TextMatch::parse(c)?);
            } else {
                return Err(unsupported(format!("{} in param-filter", c.name)));
            }
        }
        Ok(f)
    }

    fn matches(&self, prop: &CardProp) -> bool {
        let values: Vec<&String> = prop
            .params
            .iter()
            .filter(|(k, _)| *k == self.name)
            .flat_map(|(_, v)| v)
            .collect();
        let defined = prop.params.iter().any(|(k, _)| *k == self.name);
        if self.is_not_defined {
            return !defined;
        }
        match &self.text_match {
            None => defined,
            // A negated match on an absent parameter holds: no value equals the text.
            Some(t) if values.is_empty() => t.negate && !defined,
            Some(t) if t.negate => values.iter().all(|v| t.matches(v)),
            Some(t) => values.iter().any(|v| t.matches(v)),
        }
    }
}

impl TextMatch {
    fn parse(el: &Element) -> DavResult<TextMatch> {
        let collation = match el.attr("collation").unwrap_or("i;unicode-casemap") {
            "i;octet" => Collation::Octet,
            "i;ascii-casemap" => Collation::AsciiCasemap,
            "i;unicode-casemap" => Collation::UnicodeCasemap,
            other => {
                return Err(DavError::condition(
                    Condition::SupportedCollation,
                    format!(
                        "collation {other:?} is not supported (i;unicode-casemap, i;ascii-casemap, i;octet)"
                    ),
                ));
            }
        };
        let match_type = match el.attr("match-type").unwrap_or("contains") {
            "equals" => MatchType::Equals,
            "contains" => MatchType::Contains,
            "starts-with" => MatchType::StartsWith,
            "ends-with" => MatchType::EndsWith,
            other => return Err(unsupported(format!("match-type {other:?}"))),
        };
        let negate = match el.attr("negate-condition") {
            None | Some("no") => false,
            Some("yes") => true,
            Some(other) => return Err(unsupported(format!("negate-condition {other:?}"))),
        };
        Ok(TextMatch {
            needle: fold(collation, &el.text),
            collation,
            match_type,
            negate,
        })
    }

    /// Whether `value` matches (after `negate-condition`).
    pub fn matches(&self, value: &str) -> bool {
        let hay = fold(self.collation, value);
        let hit = match self.match_type {
            MatchType::Equals => hay == self.needle,
            MatchType::Contains => hay.contains(&self.needle),
            MatchType::StartsWith => hay.starts_with(&self.needle),
            MatchType::EndsWith => hay.ends_with(&self.needle),
        };
        hit != self.negate
    }
}

fn fold(c: Collation, s: &str) -> String {
    match c {
        Collation::Octet => s.to_owned(),
        Collation::AsciiCasemap => s.to_ascii_lowercase(),
        Collation::UnicodeCasemap => {
            let lower: String = s.chars().flat_map(char::to_lowercase).collect();
            icu_normalizer::DecomposingNormalizerBorrowed::new_nfkd()
                .normalize(&lower)
                .into_owned()
        }
    }
}

fn combine<T>(test: Test, items: impl Iterator<Item = T>, mut f: impl FnMut(T) -> bool) -> bool {
    let mut items = items;
    match test {
        Test::AnyOf => items.any(&mut f),
        Test::AllOf => items.all(&mut f),
    }
}

/// One content line of a card, as the filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardProp {
    /// Upper-case name without group.
    pub name: String,
    /// Upper-case parameter names with their values (a bare 3.0 `TEL;CELL` is
    /// `TYPE=CELL`).
    pub params: Vec<(String, Vec<String>)>,
    /// The value with vCard escapes removed.
    pub value: String,
}

/// Unfold (RFC 6350 §3.2) and split a card into properties. Never fails: lines that
/// are not content lines are skipped.
pub fn parse_card(card: &[u8]) -> Vec<CardProp> {
    let text = String::from_utf8_lossy(card);
    let mut logical: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), logical.last_mut()) {
            (Some(cont), Some(last)) => last.push_str(cont),
            _ => logical.push(raw.to_owned()),
        }
    }
    logical.iter().filter_map(|l| parse_line(l)).collect()
}

fn parse_line(line: &str) -> Option<CardProp> {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let parts = split_outside_quotes(head, ';');
    let mut parts = parts.into_iter();
    let full = parts.next()?;
    let name = full
        .rsplit('.')
        .next()
        .unwrap_or(full)
        .trim()
        .to_ascii_uppercase();
    if name.is_empty() {
        return None;
    }
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_uppercase(),
                split_outside_quotes(v, ',')
                    .into_iter()
                    .map(|v| v.trim_matches('"').to_owned())
                    .collect(),
            ),
            None => ("TYPE".to_owned(), vec![p.trim().to_owned()]),
        })
        .collect();
    Some(CardProp {
        name,
        params,
        value: unescape(value),
    })
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dav::xml::parse_body;

    const CARD: &[u8] =
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN:J\xc3\xbcrgen M\xc3\xbcller\r\n\
N:M\xc3\xbcller;J\xc3\xbcrgen;;;\r\nitem1.EMAIL;TYPE=INTERNET,WORK:jm@Example.com\r\n\
TEL;CELL:+49 170\r\nNOTE:a\\, b\r\n  continued\r\nEND:VCARD\r\n";

    fn filter(xml: &str) -> DavResult<Filter> {
        let doc = format!(r#"<C:filter xmlns:C="urn:ietf:params:xml:ns:carddav" {xml}"#);
        Filter::parse(&parse_body(doc.as_bytes()).unwrap().unwrap())
    }

    fn m(xml: &str) -> bool {
        filter(xml).unwrap().matches(CARD)
    }

    #[test]
    fn parses_content_lines() {
        let props = parse_card(CARD);
        let email = props.iter().find(|p| p.name == "EMAIL").unwrap();
        assert_eq!(
            email.params,
            vec![("TYPE".into(), vec!["INTERNET".into(), "WORK".into()])]
        );
        let note = props.iter().find(|p| p.name == "NOTE").unwrap();
        assert_eq!(note.value, "a, b continued");
        let tel = props.iter().find(|p| p.name == "TEL").unwrap();
        assert_eq!(tel.params, vec![("TYPE".into(), vec!["CELL".into()])]);
    }

    #[test]
    fn rfc6352_10_5_match_types_and_collations() {
        // Default collation i;unicode-casemap folds non-ASCII case.
        assert!(m(
            r#"><C:prop-filter name="FN"><C:text-match>jÜRGEN</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(!m(
            r#"><C:prop-filter name="FN"><C:text-match collation="i;ascii-casemap">jÜRGEN</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="FN"><C:text-match collation="i;ascii-casemap">jürgen</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(!m(
            r#"><C:prop-filter name="email"><C:text-match collation="i;octet">example</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="email"><C:text-match collation="i;octet" match-type="ends-with">Example.com</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="FN"><C:text-match match-type="starts-with">jür</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(!m(
            r#"><C:prop-filter name="FN"><C:text-match match-type="equals">jür</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="FN"><C:text-match match-type="equals">jürgen müller</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="FN"><C:text-match negate-condition="yes">zzz</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(!m(
            r#"><C:prop-filter name="FN"><C:text-match negate-condition="yes">müller</C:text-match></C:prop-filter></C:filter>"#
        ));
    }

    #[test]
    fn rfc6352_10_5_defined_anyof_allof_params() {
        assert!(m(r#"><C:prop-filter name="TEL"/></C:filter>"#));
        assert!(!m(r#"><C:prop-filter name="ADR"/></C:filter>"#));
        assert!(m(
            r#"><C:prop-filter name="ADR"><C:is-not-defined/></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#" test="anyof"><C:prop-filter name="ADR"/><C:prop-filter name="TEL"/></C:filter>"#
        ));
        assert!(!m(
            r#" test="allof"><C:prop-filter name="ADR"/><C:prop-filter name="TEL"/></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="EMAIL"><C:param-filter name="type"><C:text-match match-type="equals">work</C:text-match></C:param-filter></C:prop-filter></C:filter>"#
        ));
        assert!(!m(
            r#"><C:prop-filter name="EMAIL"><C:param-filter name="TYPE"><C:text-match match-type="equals">home</C:text-match></C:param-filter></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="EMAIL"><C:param-filter name="PREF"><C:is-not-defined/></C:param-filter></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="TEL"><C:param-filter name="TYPE"/></C:prop-filter></C:filter>"#
        ));
        assert!(!m(
            r#"><C:prop-filter name="EMAIL" test="allof"><C:text-match>example</C:text-match><C:text-match>nobody</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m(
            r#"><C:prop-filter name="EMAIL" test="anyof"><C:text-match>example</C:text-match><C:text-match>nobody</C:text-match></C:prop-filter></C:filter>"#
        ));
        assert!(m("/>"));
    }

    #[test]
    fn unsupported_parts_are_typed_errors() {
        let e = filter(r#"><C:prop-filter name="FN"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:filter>"#).unwrap_err();
        assert!(matches!(
            e,
            DavError::Condition {
                condition: Condition::SupportedCollation,
                ..
            }
        ));
        let e = filter(r#"><C:prop-filter name="FN"><C:text-match match-type="regex">x</C:text-match></C:prop-filter></C:filter>"#).unwrap_err();
        assert!(matches!(
            e,
            DavError::Condition {
                condition: Condition::SupportedFilter,
                ..
            }
        ));
        let e = filter(r#"><C:comp-filter name="VEVENT"/></C:filter>"#).unwrap_err();
        assert!(matches!(
            e,
            DavError::Condition {
                condition: Condition::SupportedFilter,
                ..
            }
        ));
        assert!(matches!(
            filter(r#"><C:prop-filter/></C:filter>"#),
            Err(DavError::BadRequest(_))
        ));
    }
}
