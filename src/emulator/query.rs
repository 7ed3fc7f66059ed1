//! OData query options: the subset Graph honours on contacts (reference/graph.md §4.1, §5.1).
//!
//! `$select`, `$top`, `$skip`, `$count`, `$orderby`, `$expand` of extended properties and
//! open extensions, and a `$filter` parser and evaluator covering `eq ne gt ge lt le`,
//! `and or not`, parentheses, `startswith(…)`, `contains(…)` and the lambda forms Graph
//! documents for contacts: `emailAddresses/any(a:a/address eq '…')` and
//! `singleValueExtendedProperties/any(ep: ep/id eq '…' and ep/value eq '…')`.
//! `endswith` is refused as Exchange does; anything unparseable is 400
//! `ErrorInvalidUrlQueryFilter`. String comparisons ignore case except on `id`
//! (extended property ids and item ids are case-sensitive, §5.1).

use super::errors::{GraphErr, GraphResult};
use serde_json::Value;
use std::cmp::Ordering;

/// Split a raw query string into (lower-case key, decoded value) pairs, keeping the raw pair.
pub fn parse_pairs(raw: &str) -> Vec<(String, String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k).to_ascii_lowercase(), decode(v), p.to_owned())
        })
        .collect()
}

/// Percent-decode a query component (`+` is a space, as form encoders write it).
pub fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub property: String,
    pub descending: bool,
}

/// `$expand` of contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expand {
    pub extended: Option<Vec<String>>,
    pub multi: bool,
    pub extensions: Option<Vec<String>>,
}

impl Expand {
    pub fn is_empty(&self) -> bool {
        self.extended.is_none() && !self.multi && self.extensions.is_none()
    }
}

/// The query options of one request.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub count: bool,
    pub filter: Option<Expr>,
    pub orderby: Vec<OrderKey>,
    pub expand: Expand,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
    pub search: bool,
    /// Raw `key=value` pairs except `$skip`, to rebuild nextLinks verbatim.
    pub raw_without_skip: Vec<String>,
}

/// Which property names a resource knows (canonical spelling for a case-insensitive name).
pub type Known<'a> = &'a dyn Fn(&str) -> Option<&'static str>;

impl Query {
    pub fn parse(raw: &str, known: Known<'_>) -> GraphResult<Self> {
        let mut q = Query::default();
        for (key, value, rawpair) in parse_pairs(raw) {
            if key != "$skip" {
                q.raw_without_skip.push(rawpair);
            }
            match key.as_str() {
                "$select" => {
                    let mut names = Vec::new();
                    for n in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        match known(n) {
                            Some(c) => names.push(c.to_owned()),
                            None => {
                                return Err(GraphErr::new(
                                    400,
                                    "RequestBroker--ParseUri",
                                    format!(
                                        "Could not find a property named '{n}' on type 'microsoft.graph.contact'."
                                    ),
                                ));
                            }
                        }
                    }
                    q.select = Some(names);
                }
                "$top" => {
                    q.top = Some(value.trim().parse().map_err(|_| {
                        GraphErr::bad_query(format!("Invalid $top value '{value}'."))
                    })?)
                }
                "$skip" => {
                    q.skip = value.trim().parse().map_err(|_| {
                        GraphErr::bad_query(format!("Invalid $skip value '{value}'."))
                    })?
                }
                "$count" => q.count = value.trim().eq_ignore_ascii_case("true"),
                "$filter" => q.filter = Some(parse_filter(&value, known)?),
                "$orderby" => q.orderby = parse_orderby(&value, known)?,
                "$expand" => q.expand = parse_expand(&value)?,
                "$skiptoken" => q.skiptoken = Some(value),
                "$deltatoken" => q.deltatoken = Some(value),
                "$search" => q.search = true,
                _ => {}
            }
        }
        Ok(q)
    }
}

fn parse_orderby(value: &str, known: Known<'_>) -> GraphResult<Vec<OrderKey>> {
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or("");
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(GraphErr::bad_query(format!("Invalid $orderby '{part}'."))),
        };
        let Some(c) = known(name) else {
            return Err(GraphErr::bad_query(format!(
                "Could not find a property named '{name}' on type 'microsoft.graph.contact'."
            )));
        };
        out.push(OrderKey {
            property: c.to_owned(),
            descending,
        });
    }
    Ok(out)
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote = false;
    let mut cur = String::new();
    for ch in s.chars() {
        match ch {
            '\'' => quote = !quote,
            '(' if !quote => depth += 1,
            ')' if !quote => depth -= 1,
            ',' if !quote && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn parse_expand(value: &str) -> GraphResult<Expand> {
    let mut e = Expand::default();
    for item in split_top_level(value) {
        let item = item.trim();
        let (name, inner) = match item.find('(') {
            Some(i) if item.ends_with(')') => (&item[..i], Some(&item[i + 1..item.len() - 1])),
            _ => (item, None),
        };
        let ids = match inner {
            None => Vec::new(),
            Some(opts) => {
                let opts = opts.trim();
                let lower = opts.to_ascii_lowercase();
                let f = if lower.starts_with("$filter=") {
                    &opts[8..]
                } else {
                    return Err(GraphErr::bad_query(format!(
                        "Invalid $expand option '{opts}'."
                    )));
                };
                let expr = parse_filter(f, &|n: &str| {
                    if n.eq_ignore_ascii_case("id") {
                        Some("id")
                    } else {
                        None
                    }
                })?;
                let mut ids = Vec::new();
                expr.collect_id_literals(&mut ids);
                ids
            }
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "singlevalueextendedproperties" => {
                if inner.is_none() {
                    return Err(GraphErr::bad_query(
                        "Expanding singleValueExtendedProperties requires a $filter on id.",
                    ));
                }
                e.extended = Some(ids)
            }
            "multivalueextendedproperties" => e.multi = true,
            "extensions" => e.extensions = Some(ids),
            other => {
                return Err(GraphErr::new(
                    400,
                    "RequestBroker--ParseUri",
                    format!(
                        "Could not find a property named '{other}' on type 'microsoft.graph.contact'."
                    ),
                ));
            }
        }
    }
    Ok(e)
}

// ---------------------------------------------------------------- $filter

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Vec<String>),
    Lit(Value),
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, Op, Operand),
    StartsWith(Operand, Operand),
    Contains(Operand, Operand),
    Any {
        path: Vec<String>,
        var: String,
        body: Box<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    Str(String),
    Word(String),
}

fn tokenize(s: &str) -> GraphResult<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(GraphErr::bad_filter()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let numeric = c.is_ascii_digit();
                let start = i;
                while i < chars.len() {
                    let ch = chars[i];
                    let ok = ch.is_alphanumeric()
                        || matches!(ch, '_' | '.' | '/' | '$' | '@' | '-' | '+')
                        || (numeric && ch == ':');
                    if !ok {
                        break;
                    }
                    i += 1;
                }
                if start == i {
                    return Err(GraphErr::bad_filter());
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    known: Known<'a>,
    vars: Vec<String>,
}

/// Parse a `$filter` expression; top-level property names are checked against `known`.
pub fn parse_filter(s: &str, known: Known<'_>) -> GraphResult<Expr> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
        known,
        vars: Vec::new(),
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(GraphErr::bad_filter());
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, t: Tok) -> GraphResult<()> {
        if self.next() == Some(t) {
            Ok(())
        } else {
            Err(GraphErr::bad_filter())
        }
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> GraphResult<Expr> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> GraphResult<Expr> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> GraphResult<Expr> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        if let Some(Tok::Word(w)) = self.peek().cloned() {
            let lower = w.to_ascii_lowercase();
            if self.toks.get(self.pos + 1) == Some(&Tok::LParen) {
                if lower == "startswith" || lower == "contains" {
                    self.pos += 2;
                    let a = self.operand()?;
                    self.expect(Tok::Comma)?;
                    let b = self.operand()?;
                    self.expect(Tok::RParen)?;
                    return Ok(if lower == "startswith" {
                        Expr::StartsWith(a, b)
                    } else {
                        Expr::Contains(a, b)
                    });
                }
                if let Some(base) = lower.strip_suffix("/any") {
                    let path = self.path_of(&w[..base.len()])?;
                    self.pos += 2;
                    let Some(Tok::Word(var)) = self.next() else {
                        return Err(GraphErr::bad_filter());
                    };
                    self.expect(Tok::Colon)?;
                    self.vars.push(var.clone());
                    let body = self.or()?;
                    self.vars.pop();
                    self.expect(Tok::RParen)?;
                    return Ok(Expr::Any {
                        path,
                        var,
                        body: Box::new(body),
                    });
                }
                return Err(GraphErr::bad_filter());
            }
        }
        let left = self.operand()?;
        let op = match self.next() {
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                _ => return Err(GraphErr::bad_filter()),
            },
            _ => return Err(GraphErr::bad_filter()),
        };
        let right = self.operand()?;
        Ok(Expr::Cmp(left, op, right))
    }

    fn path_of(&self, w: &str) -> GraphResult<Vec<String>> {
        let segs: Vec<String> = w.split('/').map(str::to_owned).collect();
        let first = segs.first().cloned().unwrap_or_default();
        if self.vars.contains(&first) {
            return Ok(segs);
        }
        match (self.known)(&first) {
            Some(c) => {
                let mut s = segs;
                s[0] = c.to_owned();
                Ok(s)
            }
            None => Err(GraphErr::bad_filter()),
        }
    }

    fn operand(&mut self) -> GraphResult<Operand> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Operand::Lit(Value::String(s))),
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if lower == "null" {
                    return Ok(Operand::Lit(Value::Null));
                }
                if lower == "true" || lower == "false" {
                    return Ok(Operand::Lit(Value::Bool(lower == "true")));
                }
                if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    if let Ok(n) = w.parse::<f64>() {
                        return Ok(Operand::Lit(serde_json::json!(n)));
                    }
                    // Unquoted date / time literal.
                    return Ok(Operand::Lit(Value::String(w)));
                }
                Ok(Operand::Path(self.path_of(&w)?))
            }
            _ => Err(GraphErr::bad_filter()),
        }
    }
}

impl Expr {
    /// Literals compared with `id eq '…'` (used by `$expand(…($filter=id eq …))`).
    pub fn collect_id_literals(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.collect_id_literals(out);
                b.collect_id_literals(out);
            }
            Expr::Cmp(Operand::Path(p), Op::Eq, Operand::Lit(Value::String(s)))
            | Expr::Cmp(Operand::Lit(Value::String(s)), Op::Eq, Operand::Path(p))
                if p.last().is_some_and(|l| l.eq_ignore_ascii_case("id")) =>
            {
                out.push(s.clone())
            }
            _ => {}
        }
    }

    /// Evaluate against one entity's JSON.
    pub fn matches(&self, entity: &Value) -> bool {
        self.eval(entity, &mut Vec::new())
    }

    fn eval<'v>(&self, root: &'v Value, vars: &mut Vec<(String, &'v Value)>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(root, vars) && b.eval(root, vars),
            Expr::Or(a, b) => a.eval(root, vars) || b.eval(root, vars),
            Expr::Not(a) => !a.eval(root, vars),
            Expr::Cmp(l, op, r) => {
                let case_sensitive = is_id(l) || is_id(r);
                let lv = resolve(l, root, vars);
                let rv = resolve(r, root, vars);
                let ord = compare(&lv, &rv, case_sensitive);
                match op {
                    Op::Eq => ord == Some(Ordering::Equal),
                    Op::Ne => ord != Some(Ordering::Equal),
                    Op::Gt => ord == Some(Ordering::Greater),
                    Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                    Op::Lt => ord == Some(Ordering::Less),
                    Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                }
            }
            Expr::StartsWith(a, b) | Expr::Contains(a, b) => {
                let (Value::String(x), Value::String(y)) =
                    (resolve(a, root, vars), resolve(b, root, vars))
                else {
                    return false;
                };
                let (x, y) = (x.to_lowercase(), y.to_lowercase());
                if matches!(self, Expr::StartsWith(..)) {
                    x.starts_with(&y)
                } else {
                    x.contains(&y)
                }
            }
            Expr::Any { path, var, body } => {
                let Some(Value::Array(items)) = walk(root, path) else {
                    return false;
                };
                items.iter().any(|item| {
                    vars.push((var.clone(), item));
                    let hit = body.eval(root, vars);
                    vars.pop();
                    hit
                })
            }
        }
    }
}

fn is_id(o: &Operand) -> bool {
    matches!(o, Operand::Path(p) if p.last().is_some_and(|l| l == "id"))
}

fn walk<'v>(root: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut cur = root;
    for seg in path {
        let obj = cur.as_object()?;
        cur = match obj.get(seg) {
            Some(v) => v,
            None => obj
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(seg))
                .map(|(_, v)| v)?,
        };
    }
    Some(cur)
}

fn resolve(o: &Operand, root: &Value, vars: &[(String, &Value)]) -> Value {
    match o {
        Operand::Lit(v) => v.clone(),
        Operand::Path(p) => {
            if let Some((_, v)) = vars.iter().rev().find(|(n, _)| *n == p[0]) {
                return walk(v, &p[1..]).cloned().unwrap_or(Value::Null);
            }
            walk(root, p).cloned().unwrap_or(Value::Null)
        }
    }
}

/// Order of two JSON scalars; strings ignore case unless `case_sensitive`.
pub fn compare(a: &Value, b: &Value, case_sensitive: bool) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::String(x), Value::String(y)) => Some(if case_sensitive {
            x.cmp(y)
        } else {
            x.to_lowercase().cmp(&y.to_lowercase())
        }),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, _) | (_, Value::Null) => None,
        _ => None,
    }
}

/// Sort key comparison for `$orderby` (nulls first ascending, as OData does).
pub fn order_cmp(a: &Value, b: &Value) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => compare(a, b, false).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(n: &str) -> Option<&'static str> {
        super::super::props::canonical(n).or_else(|| {
            ["singleValueExtendedProperties", "extensions", "displayName"]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(n))
        })
    }

    fn f(s: &str) -> Expr {
        parse_filter(s, &known).unwrap()
    }

    #[test]
    fn email_any_lambda_matches_case_insensitively() {
        let c = json!({"emailAddresses":[{"name":"A","address":"Alex@Contoso.com"}]});
        assert!(f("emailAddresses/any(a:a/address eq 'alex@contoso.com')").matches(&c));
        assert!(!f("emailAddresses/any(a:a/address eq 'bob@contoso.com')").matches(&c));
    }

    #[test]
    fn extended_property_lambda_is_case_sensitive_on_id() {
        let c =
            json!({"singleValueExtendedProperties":[{"id":"String {g} Name uid","value":"U-1"}]});
        assert!(
            f("singleValueExtendedProperties/Any(ep: ep/id eq 'String {g} Name uid' and ep/value eq 'u-1')")
                .matches(&c)
        );
        assert!(
            !f("singleValueExtendedProperties/any(ep: ep/id eq 'String {g} Name UID' and ep/value eq 'U-1')")
                .matches(&c)
        );
    }

    #[test]
    fn scalars_functions_and_boolean_logic() {
        let c = json!({"displayName":"Alex Wilber","surname":"Wilber","createdDateTime":"2020-05-01T00:00:00Z"});
        assert!(f("startswith(displayName,'alex') and surname eq 'wilber'").matches(&c));
        assert!(f("not (surname eq 'x') or surname eq 'y'").matches(&c));
        assert!(f("createdDateTime ge 2020-01-01T00:00:00Z").matches(&c));
        assert!(!f("createdDateTime lt 2020-01-01T00:00:00Z").matches(&c));
        assert!(f("contains(displayName,'WIL')").matches(&c));
    }

    #[test]
    fn bad_filters_are_400_invalid_nodes() {
        for s in [
            "endswith(displayName,'x')",
            "displayName eq",
            "bogus eq 'x'",
            "(displayName eq 'x'",
            "displayName eq 'x",
        ] {
            let e = parse_filter(s, &known).unwrap_err();
            assert_eq!(e.code, "ErrorInvalidUrlQueryFilter", "{s}");
        }
    }

    #[test]
    fn query_options_parse_and_keep_raw_pairs_for_next_links() {
        let q = Query::parse(
            "%24select=displayName,EmailAddresses&%24top=2&%24skip=4&%24count=true&%24orderby=displayName%20desc",
            &known,
        )
        .unwrap();
        assert_eq!(
            q.select.unwrap(),
            vec!["displayName".to_string(), "emailAddresses".to_string()]
        );
        assert_eq!((q.top, q.skip, q.count), (Some(2), 4, true));
        assert!(q.orderby[0].descending);
        assert_eq!(q.raw_without_skip.len(), 4);
        assert!(Query::parse("$select=nope", &known).is_err());
    }

    #[test]
    fn expand_collects_extended_property_ids() {
        let q = Query::parse(
            "$expand=singleValueExtendedProperties($filter=id eq 'String {g} Name a' or id eq 'String {g} Name b')",
            &known,
        )
        .unwrap();
        assert_eq!(
            q.expand.extended.unwrap(),
            vec![
                "String {g} Name a".to_string(),
                "String {g} Name b".to_string()
            ]
        );
        assert!(Query::parse("$expand=photo", &known).is_err());
    }
}
