//! The live-property registry: every property this server computes, with the RFC
//! section that defines it, the resources it exists on, whether `allprop` includes it
//! and whether a client may change it (PROPPATCH). In the spirit of Xandikos'
//! `webdav.py`: one table, one renderer, nothing hidden in handlers.
//!
//! Requested properties that are not in the table, or not defined on the resource, go
//! into a 404 propstat written after the 200 one (RFC 4918 §9.1, reference/clients.md
//! §7); `Prefer: return=minimal` (RFC 7240 §4.2, sent by Apple) leaves that propstat out.

use http::StatusCode;

use super::error::{Condition, DavError, DavResult};
use super::path;
use super::store::{BookInfo, CardMeta, VCardVersion};
use super::xml::{Element, Multistatus, NS_CARDDAV, NS_CS, NS_DAV, QName};

/// The properties this server computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    ResourceType,
    DisplayName,
    GetEtag,
    GetContentType,
    GetContentLength,
    GetLastModified,
    CurrentUserPrincipal,
    PrincipalUrl,
    PrincipalCollectionSet,
    Owner,
    CurrentUserPrivilegeSet,
    SupportedReportSet,
    SyncToken,
    AddressbookHomeSet,
    AddressbookDescription,
    SupportedAddressData,
    MaxResourceSize,
    GetCtag,
    AddressData,
}

/// One row of the registry.
#[derive(Debug)]
pub struct PropDef {
    pub ns: &'static str,
    pub name: &'static str,
    /// Where the property is defined.
    pub rfc: &'static str,
    /// Returned for `allprop` (RFC 4918 §14.2: the RFC 4918 live properties only;
    /// RFC 6578 §4 and RFC 3744 §5 exclude theirs).
    pub allprop: bool,
    /// PROPPATCH may set it (everything else is protected, RFC 4918 §16
    /// `cannot-modify-protected-property`).
    pub writable: bool,
    pub live: Live,
}

const fn def(
    ns: &'static str,
    name: &'static str,
    rfc: &'static str,
    allprop: bool,
    writable: bool,
    live: Live,
) -> PropDef {
    PropDef {
        ns,
        name,
        rfc,
        allprop,
        writable,
        live,
    }
}

/// The registry.
pub static REGISTRY: &[PropDef] = &[
    def(
        NS_DAV,
        "resourcetype",
        "RFC 4918 §15.9",
        true,
        false,
        Live::ResourceType,
    ),
    def(
        NS_DAV,
        "displayname",
        "RFC 4918 §15.2",
        true,
        true,
        Live::DisplayName,
    ),
    def(
        NS_DAV,
        "getetag",
        "RFC 4918 §15.6",
        true,
        false,
        Live::GetEtag,
    ),
    def(
        NS_DAV,
        "getcontenttype",
        "RFC 4918 §15.5",
        true,
        false,
        Live::GetContentType,
    ),
    def(
        NS_DAV,
        "getcontentlength",
        "RFC 4918 §15.4",
        true,
        false,
        Live::GetContentLength,
    ),
    def(
        NS_DAV,
        "getlastmodified",
        "RFC 4918 §15.7",
        true,
        false,
        Live::GetLastModified,
    ),
    def(
        NS_DAV,
        "current-user-principal",
        "RFC 5397 §3",
        false,
        false,
        Live::CurrentUserPrincipal,
    ),
    def(
        NS_DAV,
        "principal-URL",
        "RFC 3744 §4.2",
        false,
        false,
        Live::PrincipalUrl,
    ),
    def(
        NS_DAV,
        "principal-collection-set",
        "RFC 3744 §5.8",
        false,
        false,
        Live::PrincipalCollectionSet,
    ),
    def(NS_DAV, "owner", "RFC 3744 §5.1", false, false, Live::Owner),
    def(
        NS_DAV,
        "current-user-privilege-set",
        "RFC 3744 §5.4",
        false,
        false,
        Live::CurrentUserPrivilegeSet,
    ),
    def(
        NS_DAV,
        "supported-report-set",
        "RFC 3253 §3.1.5",
        false,
        false,
        Live::SupportedReportSet,
    ),
    def(
        NS_DAV,
        "sync-token",
        "RFC 6578 §4",
        false,
        false,
        Live::SyncToken,
    ),
    def(
        NS_CARDDAV,
        "addressbook-home-set",
        "RFC 6352 §7.1.1",
        false,
        false,
        Live::AddressbookHomeSet,
    ),
    def(
        NS_CARDDAV,
        "addressbook-description",
        "RFC 6352 §6.2.1",
        false,
        true,
        Live::AddressbookDescription,
    ),
    def(
        NS_CARDDAV,
        "supported-address-data",
        "RFC 6352 §6.2.2",
        false,
        false,
        Live::SupportedAddressData,
    ),
    def(
        NS_CARDDAV,
        "max-resource-size",
        "RFC 6352 §6.2.3",
        false,
        false,
        Live::MaxResourceSize,
    ),
    def(
        NS_CARDDAV,
        "address-data",
        "RFC 6352 §10.4 (REPORT only)",
        false,
        false,
        Live::AddressData,
    ),
    def(
        NS_CS,
        "getctag",
        "CalendarServer caldav-ctag-02 §4.1",
        false,
        false,
        Live::GetCtag,
    ),
];

/// The registry row for a name.
pub fn lookup(name: &QName) -> Option<&'static PropDef> {
    REGISTRY
        .iter()
        .find(|d| d.ns == name.ns && d.name == name.local)
}

/// The resource whose properties are written.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Root,
    Context,
    Principals,
    Principal,
    Homes,
    Home,
    Book(&'a BookInfo),
    Card {
        meta: &'a CardMeta,
        /// The body, when the request asked for `address-data`.
        body: Option<&'a [u8]>,
    },
}

/// What the renderer needs besides the target.
#[derive(Debug, Clone)]
pub struct PropCtx<'a> {
    pub user: &'a str,
    /// The principal's display name, when the target is the principal.
    pub principal_displayname: Option<&'a str>,
    pub max_resource_size: u64,
}

/// `address-data` options of a REPORT (RFC 6352 §10.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressDataSpec {
    /// The version asked for with the `version` attribute.
    pub version: Option<VCardVersion>,
    /// Property names (upper case) to return, `None` for all (`<C:allprop/>` or none).
    pub props: Option<Vec<String>>,
}

/// One property named in a request.
#[derive(Debug, Clone)]
pub struct Requested {
    pub name: QName,
    pub def: Option<&'static PropDef>,
    pub address_data: Option<AddressDataSpec>,
}

/// What a PROPFIND or REPORT asks for.
#[derive(Debug, Clone)]
pub enum Selection {
    /// `allprop` plus any `include` (RFC 4918 §14.2, §14.8).
    All(Vec<Requested>),
    /// `propname` (RFC 4918 §14.17).
    Names,
    /// `prop` (RFC 4918 §14.18).
    Props(Vec<Requested>),
}

impl Selection {
    /// The `address-data` request, if any.
    pub fn address_data(&self) -> Option<&AddressDataSpec> {
        match self {
            Selection::All(v) | Selection::Props(v) => {
                v.iter().find_map(|r| r.address_data.as_ref())
            }
            Selection::Names => None,
        }
    }

    /// Whether this selection needs card bodies.
    pub fn wants_body(&self) -> bool {
        self.address_data().is_some()
    }

    /// Parse the children of a `<d:prop>` element.
    pub fn from_prop(prop: &Element) -> DavResult<Selection> {
        Ok(Selection::Props(requested_list(prop)?))
    }

    /// Parse a `propfind` element (or the body of a REPORT that holds one of
    /// `prop` / `allprop` / `propname`); `None` when it names none of them.
    pub fn from_parent(parent: &Element) -> DavResult<Option<Selection>> {
        if let Some(prop) = parent.child(NS_DAV, "prop") {
            return Ok(Some(Selection::from_prop(prop)?));
        }
        if parent.child(NS_DAV, "allprop").is_some() {
            let include = match parent.child(NS_DAV, "include") {
                Some(inc) => requested_list(inc)?,
                None => Vec::new(),
            };
            return Ok(Some(Selection::All(include)));
        }
        if parent.child(NS_DAV, "propname").is_some() {
            return Ok(Some(Selection::Names));
        }
        Ok(None)
    }
}

fn requested_list(prop: &Element) -> DavResult<Vec<Requested>> {
    prop.children
        .iter()
        .map(|c| {
            let def = lookup(&c.name);
            let address_data = if c.is(NS_CARDDAV, "address-data") {
                Some(parse_address_data(c)?)
            } else {
                None
            };
            Ok(Requested {
                name: c.name.clone(),
                def,
                address_data,
            })
        })
        .collect()
}

/// `<C:address-data content-type="text/vcard" version="4.0"><C:prop name="FN"/>…`
/// (RFC 6352 §10.4); unsupported types or versions are the
/// `supported-address-data-conversion` precondition (§8.7).
pub fn parse_address_data(el: &Element) -> DavResult<AddressDataSpec> {
    if let Some(ct) = el.attr("content-type") {
        let media = ct.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("text/vcard") && !media.eq_ignore_ascii_case("text/x-vcard")
        {
            return Err(DavError::condition(
                Condition::SupportedAddressDataConversion,
                format!("address-data content-type {ct:?} is not served; use text/vcard"),
            ));
        }
    }
    let version = match el.attr("version").map(str::trim) {
        None | Some("") => None,
        Some("3.0") => Some(VCardVersion::V3),
        Some("4.0") => Some(VCardVersion::V4),
        Some(other) => {
            return Err(DavError::condition(
                Condition::SupportedAddressDataConversion,
                format!("vCard version {other:?} is not served; use 3.0 or 4.0"),
            ));
        }
    };
    let props = if el.child(NS_CARDDAV, "allprop").is_some() {
        None
    } else {
        let names: Vec<String> = el
            .children_named(NS_CARDDAV, "prop")
            .filter_map(|p| p.attr("name"))
            .map(str::to_ascii_uppercase)
            .collect();
        if names.is_empty() { None } else { Some(names) }
    };
    Ok(AddressDataSpec { version, props })
}

/// Whether `live` is defined on `target`.
pub fn available(live: Live, target: &Target<'_>, ctx: &PropCtx<'_>) -> bool {
    use Live::*;
    match live {
        ResourceType | CurrentUserPrincipal | CurrentUserPrivilegeSet | PrincipalCollectionSet => {
            true
        }
        SupportedReportSet => true,
        DisplayName => match target {
            Target::Principal => ctx.principal_displayname.is_some(),
            Target::Book(_) | Target::Home => true,
            _ => false,
        },
        GetEtag | GetContentType | GetContentLength | GetLastModified => {
            matches!(target, Target::Card { .. })
        }
        PrincipalUrl | AddressbookHomeSet => matches!(target, Target::Principal),
        Owner => matches!(target, Target::Home | Target::Book(_) | Target::Card { .. }),
        SyncToken | GetCtag | SupportedAddressData | MaxResourceSize => {
            matches!(target, Target::Book(_))
        }
        AddressbookDescription => {
            matches!(target, Target::Book(b) if b.description.is_some())
        }
        AddressData => matches!(target, Target::Card { body: Some(_), .. }),
    }
}

/// The `Content-Type` of a card served in `version` (GET and `getcontenttype`).
pub fn card_content_type(version: VCardVersion) -> &'static str {
    match version {
        VCardVersion::V3 => "text/vcard; charset=utf-8",
        VCardVersion::V4 => "text/vcard; charset=utf-8; version=4.0",
    }
}

const PRIVILEGES_RW: &str = "<d:current-user-privilege-set>\
<d:privilege><d:read/></d:privilege><d:privilege><d:write/></d:privilege>\
<d:privilege><d:write-content/></d:privilege><d:privilege><d:write-properties/></d:privilege>\
<d:privilege><d:bind/></d:privilege><d:privilege><d:unbind/></d:privilege>\
<d:privilege><d:read-current-user-privilege-set/></d:privilege>\
</d:current-user-privilege-set>";
const PRIVILEGES_HOME: &str = "<d:current-user-privilege-set>\
<d:privilege><d:read/></d:privilege><d:privilege><d:bind/></d:privilege>\
<d:privilege><d:unbind/></d:privilege>\
<d:privilege><d:read-current-user-privilege-set/></d:privilege>\
</d:current-user-privilege-set>";
const PRIVILEGES_RO: &str = "<d:current-user-privilege-set>\
<d:privilege><d:read/></d:privilege>\
<d:privilege><d:read-current-user-privilege-set/></d:privilege>\
</d:current-user-privilege-set>";

/// Write `<name>value</name>` for an available property.
fn write_value(
    w: &mut Multistatus,
    def: &PropDef,
    target: &Target<'_>,
    ctx: &PropCtx<'_>,
    spec: Option<&AddressDataSpec>,
) {
    use Live::*;
    match def.live {
        ResourceType => w.raw(match target {
            Target::Principal => "<d:resourcetype><d:collection/><d:principal/></d:resourcetype>",
            Target::Book(_) => {
                "<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>"
            }
            Target::Card { .. } => "<d:resourcetype/>",
            _ => "<d:resourcetype><d:collection/></d:resourcetype>",
        }),
        DisplayName => {
            let name = match target {
                Target::Principal => ctx.principal_displayname.unwrap_or(ctx.user),
                Target::Book(b) => b.displayname.as_str(),
                _ => "Address books",
            };
            w.raw("<d:displayname>");
            w.text(name);
            w.raw("</d:displayname>");
        }
        GetEtag => {
            if let Target::Card { meta, .. } = target {
                w.raw("<d:getetag>");
                w.text(&meta.etag);
                w.raw("</d:getetag>");
            }
        }
        GetContentType => {
            if let Target::Card { meta, .. } = target {
                w.raw("<d:getcontenttype>");
                w.raw(card_content_type(meta.version));
                w.raw("</d:getcontenttype>");
            }
        }
        GetContentLength => {
            if let Target::Card { meta, body } = target {
                let len = body.map_or(meta.content_length, |b| b.len() as u64);
                w.raw("<d:getcontentlength>");
                w.raw(&len.to_string());
                w.raw("</d:getcontentlength>");
            }
        }
        GetLastModified => {
            if let Target::Card { meta, .. } = target {
                w.raw("<d:getlastmodified>");
                w.raw(&httpdate::fmt_http_date(meta.last_modified));
                w.raw("</d:getlastmodified>");
            }
        }
        CurrentUserPrincipal => {
            w.raw("<d:current-user-principal><d:href>");
            w.text(&path::principal_href(ctx.user));
            w.raw("</d:href></d:current-user-principal>");
        }
        PrincipalUrl => {
            w.raw("<d:principal-URL><d:href>");
            w.text(&path::principal_href(ctx.user));
            w.raw("</d:href></d:principal-URL>");
        }
        PrincipalCollectionSet => {
            w.raw("<d:principal-collection-set><d:href>/dav/principals/</d:href></d:principal-collection-set>");
        }
        Owner => {
            w.raw("<d:owner><d:href>");
            w.text(&path::principal_href(ctx.user));
            w.raw("</d:href></d:owner>");
        }
        CurrentUserPrivilegeSet => w.raw(match target {
            Target::Book(_) | Target::Card { .. } => PRIVILEGES_RW,
            Target::Home => PRIVILEGES_HOME,
            _ => PRIVILEGES_RO,
        }),
        SupportedReportSet => w.raw(match target {
            Target::Book(_) => {
                "<d:supported-report-set>\
<d:supported-report><d:report><card:addressbook-multiget/></d:report></d:supported-report>\
<d:supported-report><d:report><card:addressbook-query/></d:report></d:supported-report>\
<d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report>\
</d:supported-report-set>"
            }
            Target::Card { .. } => {
                "<d:supported-report-set>\
<d:supported-report><d:report><card:addressbook-multiget/></d:report></d:supported-report>\
</d:supported-report-set>"
            }
            _ => "<d:supported-report-set/>",
        }),
        SyncToken => {
            if let Target::Book(b) = target {
                w.raw("<d:sync-token>");
                w.text(&b.sync_token);
                w.raw("</d:sync-token>");
            }
        }
        GetCtag => {
            if let Target::Book(b) = target {
                w.raw("<cs:getctag>");
                w.text(&b.ctag);
                w.raw("</cs:getctag>");
            }
        }
        AddressbookHomeSet => {
            w.raw("<card:addressbook-home-set><d:href>");
            w.text(&path::home_href(ctx.user));
            w.raw("</d:href></card:addressbook-home-set>");
        }
        AddressbookDescription => {
            if let Target::Book(b) = target {
                w.raw("<card:addressbook-description>");
                w.text(b.description.as_deref().unwrap_or(""));
                w.raw("</card:addressbook-description>");
            }
        }
        SupportedAddressData => w.raw(
            "<card:supported-address-data>\
<card:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>\
<card:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>\
</card:supported-address-data>",
        ),
        MaxResourceSize => {
            w.raw("<card:max-resource-size>");
            w.raw(&ctx.max_resource_size.to_string());
            w.raw("</card:max-resource-size>");
        }
        AddressData => {
            if let Target::Card {
                body: Some(body), ..
            } = target
            {
                w.raw("<card:address-data>");
                match spec.and_then(|s| s.props.as_deref()) {
                    Some(names) => write_selected(w, body, names),
                    None => w.text_bytes(body),
                }
                w.raw("</card:address-data>");
            }
        }
    }
}

/// Write only the content lines of `body` whose property is in `names` (plus BEGIN,
/// END, VERSION), keeping each line's folding (RFC 6352 §10.4.2 `<C:prop>`).
fn write_selected(w: &mut Multistatus, body: &[u8], names: &[String]) {
    let mut keep = false;
    for line in body.split_inclusive(|&b| b == b'\n') {
        if !matches!(line.first(), Some(b' ' | b'\t')) {
            let head_end = line
                .iter()
                .position(|&b| b == b':' || b == b';')
                .unwrap_or(line.len());
            let head = &line[..head_end];
            let name = match head.iter().rposition(|&b| b == b'.') {
                Some(dot) => &head[dot + 1..],
                None => head,
            };
            let name = String::from_utf8_lossy(name).to_ascii_uppercase();
            keep = matches!(name.as_str(), "BEGIN" | "END" | "VERSION") || names.contains(&name);
        }
        if keep {
            w.text_bytes(line);
        }
    }
}

/// Write one `<d:response>` for `target`.
pub fn write_response(
    w: &mut Multistatus,
    href: &str,
    target: &Target<'_>,
    ctx: &PropCtx<'_>,
    selection: &Selection,
    minimal: bool,
) {
    w.begin_response(href);
    match selection {
        Selection::Names => {
            w.begin_propstat();
            for def in REGISTRY {
                if def.live != Live::AddressData && available(def.live, target, ctx) {
                    w.empty(&QName::new(def.ns, def.name));
                }
            }
            w.end_propstat(StatusCode::OK, None);
        }
        Selection::All(include) => {
            w.begin_propstat();
            for def in REGISTRY.iter().filter(|d| d.allprop) {
                if available(def.live, target, ctx) {
                    write_value(w, def, target, ctx, None);
                }
            }
            for r in include {
                if let Some(def) = r.def
                    && !def.allprop
                    && available(def.live, target, ctx)
                {
                    write_value(w, def, target, ctx, r.address_data.as_ref());
                }
            }
            w.end_propstat(StatusCode::OK, None);
        }
        Selection::Props(list) => {
            let found = |r: &Requested| r.def.is_some_and(|d| available(d.live, target, ctx));
            let any_missing = list.iter().any(|r| !found(r));
            let any_found = list.iter().any(found);
            if any_found || minimal || !any_missing {
                w.begin_propstat();
                for r in list {
                    if let Some(def) = r.def
                        && available(def.live, target, ctx)
                    {
                        write_value(w, def, target, ctx, r.address_data.as_ref());
                    }
                }
                w.end_propstat(StatusCode::OK, None);
            }
            if any_missing && !minimal {
                w.begin_propstat();
                for r in list.iter().filter(|r| !found(r)) {
                    w.empty(&r.name);
                }
                w.end_propstat(StatusCode::NOT_FOUND, None);
            }
        }
    }
    w.end_response();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_property_names_its_rfc_and_is_unique() {
        for (i, d) in REGISTRY.iter().enumerate() {
            assert!(d.rfc.contains('§'), "{} lacks a section", d.name);
            assert!(
                REGISTRY[i + 1..]
                    .iter()
                    .all(|o| (o.ns, o.name) != (d.ns, d.name)),
                "{} twice",
                d.name
            );
        }
        assert!(lookup(&QName::new(NS_CS, "getctag")).is_some());
        assert!(lookup(&QName::new(NS_DAV, "getctag")).is_none());
    }

    #[test]
    fn selected_properties_keep_their_lines() {
        let body = b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN:A\r\nNOTE:long\r\n  folded\r\nitem1.EMAIL:a@b\r\nEND:VCARD\r\n";
        let mut w = Multistatus::with_root("x", 0);
        write_selected(&mut w, body, &["NOTE".into(), "EMAIL".into()]);
        let out = String::from_utf8(w.finish_with("x")).unwrap();
        assert!(out.contains("BEGIN:VCARD&#13;\nVERSION:3.0&#13;\nNOTE:long&#13;\n  folded&#13;\nitem1.EMAIL:a@b&#13;\nEND:VCARD"));
        assert!(!out.contains("FN:A"));
        assert!(!out.contains("UID:1"));
    }
}
