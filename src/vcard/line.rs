//! Content lines (RFC 6350 §3.3, RFC 2426 §4): the byte-faithful layer under the mapping.
//!
//! Why our own line model and not calcard's typed one: the bridge must give back what a
//! client PUT *line for line* (vdirsyncer's conformance tests compare unfolded lines
//! exactly). A typed model normalises on the way through (parameter case, `CHARSET=UTF-8`
//! added to 3.0 output, REV reformatted, lines without a colon dropped), so here a line
//! keeps its unfolded text (`raw`) and is only rebuilt when Outlook changed one of the
//! values it carries. calcard is used where it shines: converting 3.0 ⇄ 4.0 (`version.rs`).

use std::fmt::Write as _;

/// One parameter as written: `TYPE=work,voice`, `x-foo="a:b"`, or a 2.1 bare `WORK`
/// (then `values` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub values: Vec<String>,
}

/// One unfolded content line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentLine {
    /// Property group (`item1` in `item1.EMAIL`), as written.
    pub group: Option<String>,
    /// Property name as written (compare with [`ContentLine::is`]).
    pub name: String,
    pub params: Vec<Param>,
    /// The value, still escaped as on the wire.
    pub value: String,
    /// The unfolded line exactly as received; `None` once the line was rebuilt.
    pub raw: Option<String>,
}

/// Why a line could not be split into name, parameters and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    NoColon,
    EmptyName,
    BadName,
    UnterminatedQuote,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LineError::NoColon => "no ':' between property name and value",
            LineError::EmptyName => "empty property name",
            LineError::BadName => {
                "property or group name with characters other than letters, digits and '-'"
            }
            LineError::UnterminatedQuote => "unterminated quoted parameter value",
        })
    }
}

impl ContentLine {
    /// Build a new line (not from the wire).
    pub fn new(group: Option<&str>, name: &str, params: Vec<Param>, value: String) -> Self {
        Self {
            group: group.map(str::to_owned),
            name: name.to_owned(),
            params,
            value,
            raw: None,
        }
    }

    /// Split one unfolded line.
    pub fn parse(line: &str) -> Result<Self, LineError> {
        let bytes = line.as_bytes();
        // Name (with optional group) runs to the first ';' or ':'.
        let name_end = bytes
            .iter()
            .position(|&b| b == b';' || b == b':')
            .ok_or(LineError::NoColon)?;
        let full_name = &line[..name_end];
        let (group, name) = match full_name.rfind('.') {
            Some(dot) => (Some(&full_name[..dot]), &full_name[dot + 1..]),
            None => (None, full_name),
        };
        if name.trim().is_empty() {
            return Err(LineError::EmptyName);
        }
        // RFC 6350 §3.3: names and groups are 1*(ALPHA / DIGIT / "-"); "_" is tolerated
        // because some exporters use it.
        let is_token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !is_token(name) || group.is_some_and(|g| !g.split('.').all(is_token)) {
            return Err(LineError::BadName);
        }
        let mut params = Vec::new();
        let mut pos = name_end;
        // Parameters: `;name=v1,"v2"` until the first ':' outside quotes.
        while bytes.get(pos) == Some(&b';') {
            pos += 1;
            let start = pos;
            while pos < bytes.len() && !matches!(bytes[pos], b'=' | b';' | b':') {
                pos += 1;
            }
            let pname = line[start..pos].to_owned();
            let mut values = Vec::new();
            if bytes.get(pos) == Some(&b'=') {
                pos += 1;
                loop {
                    let mut value = String::new();
                    if bytes.get(pos) == Some(&b'"') {
                        pos += 1;
                        let start = pos;
                        while pos < bytes.len() && bytes[pos] != b'"' {
                            pos += 1;
                        }
                        if pos >= bytes.len() {
                            return Err(LineError::UnterminatedQuote);
                        }
                        value.push_str(&line[start..pos]);
                        pos += 1;
                    }
                    let start = pos;
                    while pos < bytes.len() && !matches!(bytes[pos], b',' | b';' | b':') {
                        pos += 1;
                    }
                    value.push_str(&line[start..pos]);
                    values.push(value);
                    if bytes.get(pos) == Some(&b',') {
                        pos += 1;
                    } else {
                        break;
                    }
                }
            }
            if !pname.is_empty() || !values.is_empty() {
                params.push(Param {
                    name: pname,
                    values,
                });
            }
        }
        if bytes.get(pos) != Some(&b':') {
            return Err(LineError::NoColon);
        }
        Ok(Self {
            group: group.map(str::to_owned),
            name: name.to_owned(),
            params,
            value: line[pos + 1..].to_owned(),
            raw: Some(line.to_owned()),
        })
    }

    /// Case-insensitive property-name test.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Values of every parameter called `name` (case-insensitive).
    pub fn param_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |p| p.name.eq_ignore_ascii_case(name))
            .flat_map(|p| p.values.iter().map(String::as_str))
    }

    /// True when the line has a parameter called `name`.
    pub fn has_param(&self, name: &str) -> bool {
        self.params
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// TYPE values, lower-cased, including comma lists inside one value and 2.1 bare
    /// parameters (`TEL;WORK;VOICE`). Spelled out for tests; the mapping uses
    /// [`ContentLine::has_type`].
    #[cfg(test)]
    pub fn types(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.params {
            if p.name.eq_ignore_ascii_case("TYPE") {
                for v in &p.values {
                    out.extend(
                        v.split(',')
                            .map(|t| t.trim().to_ascii_lowercase())
                            .filter(|t| !t.is_empty()),
                    );
                }
            } else if p.values.is_empty() {
                out.push(p.name.to_ascii_lowercase());
            }
        }
        out
    }

    /// True when one of the TYPE values is any of `wanted` (lower-case). Same values as
    /// [`ContentLine::types`], compared in place without allocating.
    pub fn has_type(&self, wanted: &[&str]) -> bool {
        let hit = |t: &str| {
            let t = t.trim();
            wanted.iter().any(|w| w.eq_ignore_ascii_case(t))
        };
        self.params.iter().any(|p| {
            if p.name.eq_ignore_ascii_case("TYPE") {
                p.values.iter().any(|v| v.split(',').any(hit))
            } else {
                p.values.is_empty() && hit(&p.name)
            }
        })
    }

    /// Preference rank: lower is preferred. `PREF=n` (4.0) or `TYPE=pref` (3.0) → n / 1;
    /// otherwise 101 (after every explicit preference).
    pub fn pref_rank(&self) -> u32 {
        if let Some(n) = self
            .param_values("PREF")
            .find_map(|v| v.trim().parse::<u32>().ok())
        {
            return n.min(100);
        }
        if self.has_type(&["pref"]) {
            return 1;
        }
        101
    }

    /// Replace the value; the line is then rebuilt on output.
    pub fn set_value(&mut self, value: String) {
        self.value = value;
        self.raw = None;
    }

    /// Like [`ContentLine::to_unfolded`], without copying the received text.
    pub fn into_unfolded(self) -> String {
        match self.raw {
            Some(raw) => raw,
            None => self.to_unfolded(),
        }
    }

    /// The unfolded text of the line (the received text when untouched).
    pub fn to_unfolded(&self) -> String {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut out = String::with_capacity(self.name.len() + self.value.len() + 16);
        if let Some(g) = &self.group {
            out.push_str(g);
            out.push('.');
        }
        out.push_str(&self.name);
        for p in &self.params {
            out.push(';');
            out.push_str(&p.name);
            if !p.values.is_empty() {
                out.push('=');
                for (i, v) in p.values.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if v.contains([':', ';', ',']) {
                        let _ = write!(out, "\"{}\"", v.replace('"', "'"));
                    } else {
                        out.push_str(v);
                    }
                }
            }
        }
        out.push(':');
        out.push_str(&self.value);
        out
    }
}

/// A physical line number (1-based) with its unfolded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfolded<'a> {
    pub line_no: usize,
    pub text: std::borrow::Cow<'a, str>,
}

/// Unfold a card (RFC 6350 §3.2): CRLF or LF line ends, continuation lines start with a
/// space or tab. vCard 2.1 quoted-printable soft breaks (`=` at the end) join too.
pub fn unfold(input: &str) -> Vec<Unfolded<'_>> {
    let mut out: Vec<Unfolded<'_>> = Vec::new();
    let mut qp_continues = false;
    for (idx, physical) in input.split('\n').enumerate() {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        let continuation = physical.starts_with([' ', '\t']);
        match out.last_mut() {
            Some(last) if continuation || qp_continues => {
                let piece = if qp_continues && !continuation {
                    physical
                } else {
                    &physical[1..]
                };
                let text = last.text.to_mut();
                if qp_continues {
                    text.pop(); // the soft-break '='
                }
                text.push_str(piece);
            }
            _ => {
                if physical.is_empty() {
                    qp_continues = false;
                    continue;
                }
                out.push(Unfolded {
                    line_no: idx + 1,
                    text: std::borrow::Cow::Borrowed(physical),
                });
            }
        }
        qp_continues = out
            .last()
            .is_some_and(|l| l.text.ends_with('=') && is_quoted_printable(&l.text));
    }
    out
}

fn is_quoted_printable(line: &str) -> bool {
    let head = line.split(':').next().unwrap_or("");
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

/// Append `line` folded at 75 octets (never inside a UTF-8 sequence), CRLF-terminated.
pub fn write_folded(out: &mut String, line: &str) {
    const LIMIT: usize = 75;
    let mut rest = line;
    let mut first = true;
    while !rest.is_empty() {
        let budget = if first { LIMIT } else { LIMIT - 1 };
        if !first {
            out.push(' ');
        }
        if rest.len() <= budget {
            out.push_str(rest);
            break;
        }
        let mut cut = budget;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n");
        rest = &rest[cut..];
        first = false;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_group_params_and_quoted_values() {
        let l =
            ContentLine::parse("item1.ADR;type=HOME;type=pref;LABEL=\"a:b,c\":;;1 Main St;Town;;;")
                .unwrap();
        assert_eq!(l.group.as_deref(), Some("item1"));
        assert_eq!(l.name, "ADR");
        assert_eq!(l.types(), vec!["home", "pref"]);
        assert_eq!(l.param_values("label").collect::<Vec<_>>(), vec!["a:b,c"]);
        assert_eq!(l.value, ";;1 Main St;Town;;;");
        assert_eq!(l.pref_rank(), 1);
    }

    #[test]
    fn bare_21_params_count_as_types() {
        let l = ContentLine::parse("TEL;WORK;VOICE:+1 555").unwrap();
        assert_eq!(l.types(), vec!["work", "voice"]);
        assert!(l.has_type(&["voice"]));
        let l = ContentLine::parse("TEL;TYPE=\"Work, cell\":+1 555").unwrap();
        assert!(l.has_type(&["cell"]) && l.has_type(&["work"]) && !l.has_type(&["home"]));
    }

    #[test]
    fn rejects_line_without_colon() {
        assert_eq!(ContentLine::parse("NOTE hello"), Err(LineError::NoColon));
        assert_eq!(ContentLine::parse("\\:,"), Err(LineError::BadName));
        assert_eq!(ContentLine::parse("a b.NOTE:x"), Err(LineError::BadName));
        assert!(ContentLine::parse("item1.X-AB_Label:x").is_ok());
        assert_eq!(
            ContentLine::parse("X;A=\"open:x"),
            Err(LineError::UnterminatedQuote)
        );
    }

    #[test]
    fn rebuilt_line_quotes_special_param_values() {
        let mut l = ContentLine::parse("EMAIL;X-L=\"a;b\":x@y").unwrap();
        l.set_value("z@y".into());
        assert_eq!(l.to_unfolded(), "EMAIL;X-L=\"a;b\":z@y");
    }

    #[test]
    fn unfold_and_fold_are_inverse() {
        let long = format!("NOTE:{}", "é".repeat(100));
        let mut folded = String::new();
        write_folded(&mut folded, &long);
        assert!(folded.split("\r\n").all(|l| l.len() <= 75));
        let lines = unfold(&folded);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, long);
    }

    #[test]
    fn unfold_joins_quoted_printable_soft_breaks() {
        let lines = unfold("NOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nb\r\nFN:x\r\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "NOTE;ENCODING=QUOTED-PRINTABLE:ab");
        assert_eq!(lines[1].line_no, 3);
    }
}
