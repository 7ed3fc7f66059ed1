#!/usr/bin/env python3
"""RFC smoke test: raw HTTP requests for the CardDAV requirements the client suites do not reach.

Standard library only. Reads DAV_URL, DAV_USER, DAV_PASS (and EMULATOR_URL, when the server is
`cardbridge demo`, for the "edit made in Outlook" checks). Each check is named after the RFC
section it enforces and prints `[PASS] name` or `[FAIL] name: why` (the format conformance/run.sh
counts); a failure prints the request and the response. Exit status 1 when any check failed.

Read-only checks use the first address book of the home set; writing checks use a fresh address
book made with an extended MKCOL (RFC 5689) and deleted at the end.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import sys
import traceback
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

D = "DAV:"
C = "urn:ietf:params:xml:ns:carddav"
CS = "http://calendarserver.org/ns/"
NS = {"d": D, "c": C, "cs": CS}
XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
NSDECL = f'xmlns:d="{D}" xmlns:c="{C}" xmlns:cs="{CS}"'

BASE = os.environ["DAV_URL"]
USER = os.environ["DAV_USER"]
PASS = os.environ["DAV_PASS"]
EMULATOR = os.environ.get("EMULATOR_URL", "").rstrip("/")
BASE_PARTS = urllib.parse.urlsplit(BASE)
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASS}".encode()).decode()


class Check(Exception):
    pass


class Resp:
    def __init__(self, method, path, req_headers, req_body, status, headers, body):
        self.method, self.path = method, path
        self.req_headers, self.req_body = req_headers, req_body
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def xml(self) -> ET.Element:
        try:
            return ET.fromstring(self.body)
        except ET.ParseError as e:
            raise Check(f"response body is not XML ({e})\n{self.describe()}") from e

    def describe(self) -> str:
        rb = self.req_body.decode("utf-8", "replace") if self.req_body else ""
        b = self.body.decode("utf-8", "replace")
        hs = "".join(f"      {k}: {v}\n" for k, v in self.headers.items())
        rhs = "".join(
            f"      {k}: {v}\n" for k, v in self.req_headers.items() if k.lower() != "authorization"
        )
        return (
            f"    request:  {self.method} {self.path}\n{rhs}"
            + (f"      {rb[:1500]}\n" if rb else "")
            + f"    response: {self.status}\n{hs}"
            + (f"      {b[:2500]}\n" if b else "")
        )


_conn: http.client.HTTPConnection | None = None


def request(method, path, body=None, headers=None, auth=True) -> Resp:
    """One request on a kept-alive connection (reconnects once if the server closed it)."""
    global _conn
    if isinstance(body, str):
        body = body.encode()
    hdrs = dict(headers or {})
    if auth:
        hdrs["Authorization"] = AUTH
    if body is not None and "Content-Type" not in hdrs:
        hdrs["Content-Type"] = "application/xml; charset=utf-8"
    for attempt in (0, 1):
        if _conn is None:
            cls = http.client.HTTPSConnection if BASE_PARTS.scheme == "https" else http.client.HTTPConnection
            _conn = cls(BASE_PARTS.hostname, BASE_PARTS.port, timeout=60)
        try:
            _conn.request(method, path, body=body, headers=hdrs)
            r = _conn.getresponse()
            data = r.read()
            if r.getheader("connection", "").lower() == "close":
                _conn.close()
                _conn = None
            return Resp(method, path, hdrs, body, r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            _conn.close()
            _conn = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def expect(cond: bool, msg: str, resp: Resp | None = None):
    if not cond:
        raise Check(msg + ("\n" + resp.describe() if resp is not None else ""))


def expect_status(resp: Resp, *codes: int):
    expect(resp.status in codes, f"expected status {' or '.join(map(str, codes))}, got {resp.status}", resp)


def path_of(url_or_path: str) -> str:
    return urllib.parse.urlsplit(urllib.parse.urljoin(BASE, url_or_path)).path


def propfind(path, props: str, depth="0") -> Resp:
    body = f"{XML_HEAD}<d:propfind {NSDECL}><d:prop>{props}</d:prop></d:propfind>"
    return request("PROPFIND", path, body, {"Depth": depth})


def responses(resp: Resp) -> dict[str, ET.Element]:
    """href (decoded path) → <d:response> of a multistatus."""
    expect_status(resp, 207)
    out = {}
    for r in resp.xml().findall("d:response", NS):
        href = r.findtext("d:href", "", NS).strip()
        out[urllib.parse.unquote(path_of(href))] = r
    return out


def prop_ok(response: ET.Element, tag: str) -> ET.Element | None:
    """The property element `tag` (Clark notation) inside a 200 propstat, or None."""
    for ps in response.findall("d:propstat", NS):
        if " 200 " in ps.findtext("d:status", "", NS) + " ":
            el = ps.find(f"d:prop/{tag}", NS)
            if el is not None:
                return el
    return None


def card_text(response: ET.Element) -> str:
    """The address-data of one <d:response> ('' when absent)."""
    el = prop_ok(response, "c:address-data")
    return (el.text or "") if el is not None else ""


def single(resp: Resp, tag: str) -> ET.Element:
    rs = list(responses(resp).values())
    expect(len(rs) >= 1, "empty multistatus", resp)
    el = prop_ok(rs[0], tag)
    expect(el is not None, f"no 200 propstat for {tag}", resp)
    return el


def vcard(uid: str, fn: str, extra: str = "") -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{fn}", f"N:{fn};;;;"]
    if extra:
        lines.append(extra)
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def put_card(book: str, name: str, body: str, headers=None) -> Resp:
    h = {"Content-Type": "text/vcard; charset=utf-8"}
    h.update(headers or {})
    return request("PUT", book + name, body, h)


def ctag_and_token(book: str) -> tuple[str | None, str | None]:
    r = propfind(book, "<cs:getctag/><d:sync-token/>")
    rs = list(responses(r).values())
    ctag = prop_ok(rs[0], "cs:getctag")
    tok = prop_ok(rs[0], "d:sync-token")
    return (ctag.text if ctag is not None else None, tok.text if tok is not None else None)


def sync_collection(book: str, token: str, props="<d:getetag/>") -> Resp:
    body = (
        f"{XML_HEAD}<d:sync-collection {NSDECL}><d:sync-token>{token}</d:sync-token>"
        f"<d:sync-level>1</d:sync-level><d:prop>{props}</d:prop></d:sync-collection>"
    )
    # RFC 6578 §3.3: the report is only defined for Depth: 0.
    return request("REPORT", book, body, {"Depth": "0"})


# ------------------------------------------------------------------ discovery state

STATE: dict[str, str] = {}
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def unauth_context() -> str:
    """Where /.well-known/carddav points (path)."""
    r = request("GET", "/.well-known/carddav", auth=False)
    loc = r.header("location")
    return path_of(loc) if loc else "/"


# ------------------------------------------------------------------ RFC 6764

@check
def rfc6764_s5_well_known_get_redirects():
    r = request("GET", "/.well-known/carddav", auth=False)
    expect_status(r, 301, 302, 303, 307, 308)
    loc = r.header("location")
    expect(bool(loc), "redirect without Location", r)
    p = propfind(path_of(loc), "<d:current-user-principal/>")
    expect_status(p, 207)


@check
def rfc6764_s5_well_known_propfind_redirects():
    r = request("PROPFIND", "/.well-known/carddav", f"{XML_HEAD}<d:propfind {NSDECL}><d:prop><d:current-user-principal/></d:prop></d:propfind>", {"Depth": "0"})
    # A redirect (RFC 6764 §5) or, behind it, a multistatus naming the principal.
    if r.status in (301, 302, 303, 307, 308):
        expect(bool(r.header("location")), "redirect without Location", r)
        return
    expect_status(r, 301, 302, 303, 307, 308, 207)


@check
def rfc5397_s3_current_user_principal():
    ctx = unauth_context()
    r = propfind(ctx, "<d:current-user-principal/>")
    el = single(r, "d:current-user-principal")
    href = el.findtext("d:href", None, NS)
    expect(bool(href), "current-user-principal has no href (unauthenticated?)", r)
    STATE["principal"] = path_of(href)


@check
def rfc6352_s7_1_1_addressbook_home_set():
    r = propfind(STATE["principal"], "<c:addressbook-home-set/>")
    el = single(r, "c:addressbook-home-set")
    href = el.findtext("d:href", None, NS)
    expect(bool(href), "addressbook-home-set has no href", r)
    STATE["home"] = path_of(href)


@check
def rfc6352_s5_2_home_lists_address_books():
    r = propfind(STATE["home"], "<d:resourcetype/><d:displayname/>", depth="1")
    books = []
    for href, resp in responses(r).items():
        rt = prop_ok(resp, "d:resourcetype")
        if rt is not None and rt.find("c:addressbook", NS) is not None:
            expect(rt.find("d:collection", NS) is not None, f"{href}: addressbook without DAV:collection", r)
            expect(href.endswith("/"), f"collection href {href} does not end in /", r)
            books.append(href)
    expect(bool(books), "no address book in the home set", r)
    STATE["book"] = sorted(books, key=lambda b: (not b.rstrip("/").endswith("contacts"), b))[0]


# ------------------------------------------------------------------ RFC 4918 / 7235 basics

@check
def rfc4918_s10_1_options_dav_header_without_auth():
    r = request("OPTIONS", STATE["book"], auth=False)
    expect_status(r, 200, 204)
    dav = [t.strip() for t in (r.header("dav") or "").split(",")]
    expect("1" in dav, "DAV header lacks class 1", r)
    expect("addressbook" in dav, "DAV header lacks 'addressbook' (RFC 6352 §6.1)", r)
    allow = (r.header("allow") or "").upper()
    for m in ("PROPFIND", "REPORT", "PUT", "DELETE"):
        expect(m in allow, f"Allow lacks {m}", r)


@check
def rfc7235_s3_1_unauthenticated_gets_401_with_challenge():
    r = request("PROPFIND", STATE["book"], None, {"Depth": "0"}, auth=False)
    expect_status(r, 401)
    wa = r.header("www-authenticate") or ""
    expect(wa.lower().startswith("basic"), "401 without WWW-Authenticate: Basic", r)


@check
def rfc7235_s3_1_wrong_password_gets_401():
    bad = "Basic " + base64.b64encode(f"{USER}:wrong-{PASS}".encode()).decode()
    r = request("PROPFIND", STATE["book"], None, {"Depth": "0", "Authorization": bad}, auth=False)
    expect_status(r, 401)


@check
def rfc4918_s9_1_depth_infinity_is_refused():
    r = propfind(STATE["home"], "<d:resourcetype/>", depth="infinity")
    expect_status(r, 403)
    expect(b"propfind-finite-depth" in r.body, "403 without DAV:propfind-finite-depth", r)


@check
def rfc4918_s8_2_malformed_xml_is_400():
    r = request("PROPFIND", STATE["book"], f"{XML_HEAD}<d:propfind {NSDECL}><d:prop><d:getetag></d:propfind>", {"Depth": "0"})
    expect_status(r, 400)


@check
def rfc4918_s9_1_allprop_and_empty_body():
    r = request("PROPFIND", STATE["book"], None, {"Depth": "0"})
    rs = responses(r)
    expect(len(rs) == 1, "Depth 0 PROPFIND without body did not answer exactly the collection", r)
    resp = next(iter(rs.values()))
    expect(prop_ok(resp, "d:resourcetype") is not None, "allprop without resourcetype", r)


@check
def rfc3253_s3_6_unknown_report_refused():
    r = request("REPORT", STATE["book"], f'{XML_HEAD}<x:no-such-report xmlns:x="urn:example:none"/>', {"Depth": "0"})
    expect(r.status in (400, 403, 501), f"unknown REPORT answered {r.status}", r)


@check
def rfc5397_s3_principal_properties():
    r = propfind(STATE["principal"], "<d:principal-URL/><d:displayname/><d:resourcetype/>")
    url = single(r, "d:principal-URL").findtext("d:href", "", NS)
    expect(path_of(url) == STATE["principal"], f"principal-URL {url!r} is not the principal", r)
    rt = single(r, "d:resourcetype")
    expect(rt.find("d:principal", NS) is not None, "principal's resourcetype lacks DAV:principal (RFC 3744 §4)", r)
    expect(bool((single(r, "d:displayname").text or "").strip()), "principal without displayname", r)


@check
def rfc4918_s9_1_propname():
    r = request("PROPFIND", STATE["book"], f"{XML_HEAD}<d:propfind {NSDECL}><d:propname/></d:propfind>", {"Depth": "0"})
    resp = next(iter(responses(r).values()))
    names = set()
    for ps in resp.findall("d:propstat", NS):
        for el in ps.find("d:prop", NS) or []:
            names.add(el.tag)
            expect(len(el) == 0 and not (el.text or "").strip(), f"propname returned a value for {el.tag}", r)
    for want in (f"{{{D}}}resourcetype", f"{{{D}}}displayname", f"{{{C}}}supported-address-data"):
        expect(want in names, f"propname lacks {want}", r)


@check
def rfc4918_s9_1_unknown_property_in_404_propstat():
    r = propfind(STATE["book"], '<d:displayname/><x:no-such-prop xmlns:x="urn:example:none"/>')
    resp = next(iter(responses(r).values()))
    stats = {}
    for ps in resp.findall("d:propstat", NS):
        st = ps.findtext("d:status", "", NS).strip()
        for el in ps.find("d:prop", NS) or []:
            stats[el.tag] = st
    expect(stats.get(f"{{{D}}}displayname") == "HTTP/1.1 200 OK", f"displayname status {stats.get(f'{{{D}}}displayname')!r}", r)
    expect(stats.get("{urn:example:none}no-such-prop", "").startswith("HTTP/1.1 404"), "unknown property not in a 404 propstat", r)


@check
def rfc3744_s5_4_current_user_privilege_set():
    r = propfind(STATE["book"], "<d:current-user-privilege-set/>")
    el = single(r, "d:current-user-privilege-set")
    privs = {p[0].tag for p in el.findall("d:privilege", NS) if len(p)}
    expect(f"{{{D}}}read" in privs or f"{{{D}}}all" in privs, f"no DAV:read privilege ({privs})", r)


@check
def rfc4918_s20_6_doctype_refused():
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<d:propfind {NSDECL}><d:prop><d:displayname/></d:prop></d:propfind>'
    )
    r = request("PROPFIND", STATE["book"], body, {"Depth": "0"})
    expect(400 <= r.status < 500, f"a body with a DOCTYPE answered {r.status}", r)


@check
def rfc4918_s20_6_deeply_nested_xml_refused():
    depth = 2000
    body = f'{XML_HEAD}<d:propfind {NSDECL}><d:prop>' + "<x:a xmlns:x='urn:x'>" * depth + "</x:a>" * depth + "</d:prop></d:propfind>"
    r = request("PROPFIND", STATE["book"], body, {"Depth": "0"})
    expect(r.status in (400, 413, 207) and r.status != 500, f"deeply nested XML answered {r.status}", r)


# ------------------------------------------------------------------ RFC 6352 properties

@check
def rfc6352_s6_2_2_supported_address_data():
    r = propfind(STATE["book"], "<c:supported-address-data/>")
    el = single(r, "c:supported-address-data")
    types = {(t.get("content-type"), t.get("version")) for t in el.findall("c:address-data-type", NS)}
    expect(("text/vcard", "3.0") in types, f"text/vcard 3.0 not advertised ({types})", r)
    STATE["v4"] = "1" if ("text/vcard", "4.0") in types else ""


@check
def rfc3253_s3_1_5_supported_report_set():
    r = propfind(STATE["book"], "<d:supported-report-set/>")
    el = single(r, "d:supported-report-set")
    names = {rep[0].tag for rep in el.iter(f"{{{D}}}report") if len(rep)}
    for want in (f"{{{C}}}addressbook-multiget", f"{{{C}}}addressbook-query"):
        expect(want in names, f"{want} missing from supported-report-set (RFC 6352 §3)", r)
    STATE["sync"] = "1" if f"{{{D}}}sync-collection" in names else ""


@check
def rfc6352_s6_2_3_max_resource_size_is_positive():
    r = propfind(STATE["book"], "<c:max-resource-size/>")
    rs = list(responses(r).values())
    el = prop_ok(rs[0], "c:max-resource-size")
    if el is None:
        return  # optional property
    expect((el.text or "").strip().isdigit() and int(el.text) > 0, "max-resource-size is not a positive integer", r)


# ------------------------------------------------------------------ writes on a fresh book

@check
def rfc5689_s3_extended_mkcol_creates_address_book():
    seg = f"smoke-{uuid.uuid4().hex[:12]}"
    path = f"{STATE['home']}{seg}/"
    body = (
        f"{XML_HEAD}<d:mkcol {NSDECL}><d:set><d:prop><d:resourcetype><d:collection/><c:addressbook/>"
        "</d:resourcetype><d:displayname>Smoke test</d:displayname></d:prop></d:set></d:mkcol>"
    )
    r = request("MKCOL", path, body)
    expect_status(r, 201)
    STATE["wbook"] = path
    p = propfind(path, "<d:resourcetype/><d:displayname/>")
    rt = single(p, "d:resourcetype")
    expect(rt.find("c:addressbook", NS) is not None, "created collection is not an address book", p)
    dn = single(p, "d:displayname")
    expect(dn.text == "Smoke test", f"displayname {dn.text!r} != 'Smoke test'", p)
    again = request("MKCOL", path, body)
    expect_status(again, 405)


def wbook() -> str:
    if "wbook" not in STATE:
        raise Check("no writable address book (extended MKCOL failed)")
    return STATE["wbook"]


@check
def rfc6352_s6_3_2_put_then_get_round_trips():
    book = wbook()
    uid = str(uuid.uuid4())
    card = vcard(uid, "Smoke Alpha Quux", "EMAIL;TYPE=INTERNET:alpha@example.com\r\nX-SMOKE-TEST;X-P=1:kept")
    r = put_card(book, "alpha.vcf", card, {"If-None-Match": "*"})
    expect_status(r, 201)
    etag = r.header("etag")
    g = request("GET", book + "alpha.vcf")
    expect_status(g, 200)
    ct = (g.header("content-type") or "").lower()
    expect(ct.startswith("text/vcard"), f"GET content-type {ct!r} is not text/vcard", g)
    text = g.body.decode()
    expect(f"UID:{uid}" in text, "UID changed", g)
    expect("alpha@example.com" in text, "EMAIL lost", g)
    expect("X-SMOKE-TEST;X-P=1:kept" in text, "unknown X- property (with its parameter) lost", g)
    if etag:
        expect(etag == g.header("etag"), f"ETag of PUT {etag} != ETag of GET {g.header('etag')}", g)
    STATE["alpha"] = book + "alpha.vcf"
    STATE["alpha_uid"] = uid
    STATE["alpha_etag"] = g.header("etag") or ""


@check
def rfc7232_s3_2_if_none_match_star_on_existing_is_412():
    r = put_card(wbook(), "alpha.vcf", vcard(STATE["alpha_uid"], "Smoke Alpha Quux"), {"If-None-Match": "*"})
    expect_status(r, 412)


@check
def rfc7232_s3_1_stale_if_match_put_is_412():
    r = put_card(wbook(), "alpha.vcf", vcard(STATE["alpha_uid"], "Stale Write"), {"If-Match": '"not-the-etag"'})
    expect_status(r, 412)
    g = request("GET", STATE["alpha"])
    expect(b"Stale Write" not in g.body, "the stale write changed the card", g)


@check
def rfc7232_s3_1_if_match_put_updates_and_changes_etag():
    old = STATE["alpha_etag"]
    expect(bool(old), "GET gave no ETag (RFC 6352 §6.3.2.3)")
    r = put_card(wbook(), "alpha.vcf", vcard(STATE["alpha_uid"], "Smoke Alpha Quux", "NOTE:updated once"), {"If-Match": old})
    expect_status(r, 200, 204)
    g = request("GET", STATE["alpha"])
    expect(b"updated once" in g.body, "update not visible in GET", g)
    expect(g.header("etag") != old, "ETag unchanged after an update", g)
    STATE["alpha_etag"] = g.header("etag") or ""


@check
def rfc6352_s6_3_2_1_non_vcard_put_refused():
    r = put_card(wbook(), "junk.vcf", "this is not a vCard\r\n", {"If-None-Match": "*"})
    expect(400 <= r.status < 500, f"a non-vCard body was accepted ({r.status})", r)
    g = request("GET", wbook() + "junk.vcf")
    expect_status(g, 404)


@check
def rfc6352_s6_3_2_1_no_uid_conflict():
    r = put_card(wbook(), "alpha-copy.vcf", vcard(STATE["alpha_uid"], "Same UID"), {"If-None-Match": "*"})
    expect(r.status in (403, 409), f"second card with the same UID answered {r.status}", r)
    expect(b"no-uid-conflict" in r.body, "no CARDDAV:no-uid-conflict in the error body", r)


@check
def rfc6578_s4_ctag_and_sync_token_change_after_write():
    ctag1, tok1 = ctag_and_token(wbook())
    expect(bool(ctag1 or tok1), "neither getctag nor sync-token on the book")
    r = put_card(wbook(), "beta.vcf", vcard(str(uuid.uuid4()), "Smoke Beta Zork"), {"If-None-Match": "*"})
    expect_status(r, 201)
    ctag2, tok2 = ctag_and_token(wbook())
    if ctag1:
        expect(ctag2 != ctag1, f"getctag unchanged after a PUT ({ctag1})")
    if tok1:
        expect(tok2 != tok1, f"sync-token unchanged after a PUT ({tok1})")
    STATE["beta"] = wbook() + "beta.vcf"


@check
def rfc6352_s8_6_addressbook_query_text_match():
    def query(match: str, collation="i;unicode-casemap", mtype="contains"):
        body = (
            f"{XML_HEAD}<c:addressbook-query {NSDECL}><d:prop><d:getetag/></d:prop>"
            f'<c:filter><c:prop-filter name="FN"><c:text-match collation="{collation}" match-type="{mtype}">'
            f"{match}</c:text-match></c:prop-filter></c:filter></c:addressbook-query>"
        )
        return request("REPORT", wbook(), body, {"Depth": "1"})

    r = query("alpha quux")
    got = set(responses(r))
    expect(got == {STATE["alpha"]}, f"contains 'alpha quux' matched {sorted(got)}", r)
    r = query("Smoke Beta", mtype="starts-with")
    got = set(responses(r))
    expect(got == {STATE["beta"]}, f"starts-with 'Smoke Beta' matched {sorted(got)}", r)
    r = query("nothing-matches-this")
    expect(not responses(r), "a query that matches nothing returned responses", r)


@check
def rfc6352_s8_6_query_unsupported_collation_refused():
    body = (
        f"{XML_HEAD}<c:addressbook-query {NSDECL}><d:prop><d:getetag/></d:prop>"
        '<c:filter><c:prop-filter name="FN"><c:text-match collation="x-no-such-collation">a</c:text-match>'
        "</c:prop-filter></c:filter></c:addressbook-query>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "1"})
    expect_status(r, 403, 409)
    expect(b"supported-collation" in r.body, "no CARDDAV:supported-collation in the error", r)


@check
def rfc6352_s8_7_multiget_404_for_missing_href():
    missing = wbook() + "does-not-exist.vcf"
    body = (
        f"{XML_HEAD}<c:addressbook-multiget {NSDECL}><d:prop><d:getetag/><c:address-data/></d:prop>"
        f"<d:href>{urllib.parse.quote(STATE['alpha'])}</d:href><d:href>{urllib.parse.quote(missing)}</d:href>"
        "</c:addressbook-multiget>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "0"})
    rs = responses(r)
    expect(STATE["alpha"] in rs and missing in rs, f"multiget answered {sorted(rs)}", r)
    data = prop_ok(rs[STATE["alpha"]], "c:address-data")
    expect(data is not None and "BEGIN:VCARD" in (data.text or ""), "no address-data for the existing card", r)
    st = rs[missing].findtext("d:status", "", NS)
    expect(" 404 " in st + " ", f"missing href answered {st!r}, not 404", r)


@check
def rfc6352_s10_4_address_data_prop_subset():
    body = (
        f'{XML_HEAD}<c:addressbook-multiget {NSDECL}><d:prop><c:address-data><c:prop name="FN"/><c:prop name="UID"/>'
        f"</c:address-data></d:prop><d:href>{urllib.parse.quote(STATE['alpha'])}</d:href></c:addressbook-multiget>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "0"})
    data = prop_ok(responses(r)[STATE["alpha"]], "c:address-data")
    text = data.text if data is not None else ""
    expect("FN:" in text and "UID:" in text, "requested FN/UID missing", r)
    expect("EMAIL" not in text and "NOTE" not in text, "properties not asked for were returned", r)


@check
def rfc6352_s5_1_1_vcard4_via_accept():
    if not STATE.get("v4"):
        raise Check("vCard 4.0 not advertised in supported-address-data")
    g = request("GET", STATE["alpha"], headers={"Accept": "text/vcard; version=4.0"})
    expect_status(g, 200)
    expect(b"VERSION:4.0" in g.body, "Accept: text/vcard; version=4.0 did not give a 4.0 card", g)
    expect(STATE["alpha_uid"].encode() in g.body, "UID lost in 4.0", g)
    g3 = request("GET", STATE["alpha"])
    expect(b"VERSION:3.0" in g3.body, "default GET is not 3.0 any more", g3)
    if g.header("etag") and g3.header("etag"):
        expect(g.header("etag") != g3.header("etag"), "3.0 and 4.0 bodies share one strong ETag", g)


@check
def rfc6352_s10_4_vcard4_via_address_data_version():
    if not STATE.get("v4"):
        raise Check("vCard 4.0 not advertised in supported-address-data")
    body = (
        f'{XML_HEAD}<c:addressbook-multiget {NSDECL}><d:prop><c:address-data content-type="text/vcard" version="4.0"/>'
        f"</d:prop><d:href>{urllib.parse.quote(STATE['alpha'])}</d:href></c:addressbook-multiget>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "0"})
    data = prop_ok(responses(r)[STATE["alpha"]], "c:address-data")
    expect(data is not None and "VERSION:4.0" in (data.text or ""), "address-data version=4.0 not honoured", r)


@check
def rfc6352_s6_3_2_put_vcard4_accepted():
    uid = str(uuid.uuid4())
    card = "\r\n".join(["BEGIN:VCARD", "VERSION:4.0", f"UID:{uid}", "FN:Smoke Four", "N:Four;Smoke;;;", "EMAIL;TYPE=work:four@example.com", "END:VCARD", ""])
    r = put_card(wbook(), "four.vcf", card, {"If-None-Match": "*"})
    expect_status(r, 201)
    g = request("GET", wbook() + "four.vcf")
    expect(b"four@example.com" in g.body and uid.encode() in g.body, "4.0 card did not round-trip", g)
    STATE["four"] = wbook() + "four.vcf"


@check
def rfc6352_s6_3_2_put_answers_strong_etag():
    r = put_card(wbook(), "gamma.vcf", vcard(str(uuid.uuid4()), "Smoke Gamma Query", "EMAIL;TYPE=WORK:gamma@example.org\r\nTEL;TYPE=CELL:+1 555 0100"), {"If-None-Match": "*"})
    expect_status(r, 201)
    et = r.header("etag") or ""
    expect(et.startswith('"') and et.endswith('"'), f"PUT answered no strong ETag ({et!r})", r)
    g = request("GET", wbook() + "gamma.vcf")
    expect(g.header("etag") == et, f"ETag of PUT {et} != ETag of GET {g.header('etag')}", g)
    STATE["gamma"] = wbook() + "gamma.vcf"
    STATE["gamma_etag"] = et


@check
def rfc9110_s13_1_2_conditional_get_304_and_head():
    et = STATE["gamma_etag"]
    r = request("GET", STATE["gamma"], headers={"If-None-Match": et})
    expect_status(r, 304)
    expect(not r.body, "304 with a body", r)
    h = request("HEAD", STATE["gamma"])
    expect_status(h, 200)
    expect(not h.body, "HEAD with a body", h)
    expect(h.header("etag") == et, "HEAD ETag differs from GET's", h)
    expect(bool(h.header("last-modified")), "no Last-Modified", h)


@check
def rfc4918_s15_card_live_properties():
    r = propfind(STATE["gamma"], "<d:getetag/><d:getcontenttype/><d:getcontentlength/><d:getlastmodified/><d:resourcetype/>")
    resp = next(iter(responses(r).values()))
    ct = prop_ok(resp, "d:getcontenttype")
    expect(ct is not None and (ct.text or "").startswith("text/vcard"), "getcontenttype is not text/vcard", r)
    cl = prop_ok(resp, "d:getcontentlength")
    g = request("GET", STATE["gamma"])
    expect(cl is not None and (cl.text or "").strip() == str(len(g.body)), f"getcontentlength != GET body length {len(g.body)}", r)
    expect(prop_ok(resp, "d:getlastmodified") is not None, "no getlastmodified", r)
    expect(prop_ok(resp, "d:getetag").text == STATE["gamma_etag"], "getetag differs from the ETag header", r)


def query_hrefs(filter_xml: str, extra="") -> tuple[Resp, set[str]]:
    body = (
        f"{XML_HEAD}<c:addressbook-query {NSDECL}><d:prop><d:getetag/></d:prop>"
        f"<c:filter{extra}>{filter_xml}</c:filter></c:addressbook-query>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "1"})
    return r, set(responses(r))


@check
def rfc6352_s10_5_query_filter_language():
    a, b, g, f = STATE["alpha"], STATE["beta"], STATE["gamma"], STATE.get("four", "")
    cases = [
        ('<c:prop-filter name="FN"><c:text-match match-type="ends-with">gamma query</c:text-match></c:prop-filter>', "", {g}),
        ('<c:prop-filter name="FN"><c:text-match match-type="equals">smoke beta zork</c:text-match></c:prop-filter>', "", {b}),
        ('<c:prop-filter name="FN"><c:text-match collation="i;ascii-casemap" match-type="contains">GAMMA</c:text-match></c:prop-filter>', "", {g}),
        ('<c:prop-filter name="FN"><c:text-match negate-condition="yes" match-type="contains">gamma</c:text-match></c:prop-filter>', "", {a, b, f} - {""}),
        ('<c:prop-filter name="EMAIL"><c:is-not-defined/></c:prop-filter>', "", {a, b}),  # alpha lost its EMAIL in the If-Match update
        ('<c:prop-filter name="TEL"><c:param-filter name="TYPE"><c:text-match match-type="equals">cell</c:text-match></c:param-filter></c:prop-filter>', "", {g}),
        ('<c:prop-filter name="FN"><c:text-match>alpha</c:text-match></c:prop-filter><c:prop-filter name="FN"><c:text-match>gamma</c:text-match></c:prop-filter>', "", {a, g}),
        ('<c:prop-filter name="FN"><c:text-match>smoke</c:text-match></c:prop-filter><c:prop-filter name="EMAIL"><c:text-match>gamma</c:text-match></c:prop-filter>', ' test="allof"', {g}),
        ('<c:prop-filter name="FN" test="allof"><c:text-match>smoke</c:text-match><c:text-match>zork</c:text-match></c:prop-filter>', "", {b}),
    ]
    for flt, extra, want in cases:
        r, got = query_hrefs(flt, extra)
        expect(got == want, f"filter {extra} {flt} matched {sorted(got)}, expected {sorted(want)}", r)


@check
def rfc6352_s8_6_1_query_limit_507():
    body = (
        f"{XML_HEAD}<c:addressbook-query {NSDECL}><d:prop><d:getetag/></d:prop><c:filter>"
        '<c:prop-filter name="FN"><c:text-match>smoke</c:text-match></c:prop-filter></c:filter>'
        "<c:limit><c:nresults>1</c:nresults></c:limit></c:addressbook-query>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "1"})
    rs = responses(r)
    cards = [h for h in rs if h != wbook()]
    expect(len(cards) == 1, f"limit 1 gave {len(cards)} cards", r)
    expect(wbook() in rs and " 507 " in rs[wbook()].findtext("d:status", "", NS) + " ", "truncation not reported as 507 on the collection", r)


@check
def rfc6578_s3_6_sync_limit_and_continuation():
    if not STATE.get("sync"):
        raise Check("sync-collection not advertised")
    body = (
        f"{XML_HEAD}<d:sync-collection {NSDECL}><d:sync-token/><d:sync-level>1</d:sync-level>"
        "<d:limit><d:nresults>1</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>"
    )
    r = request("REPORT", wbook(), body, {"Depth": "0"})
    if r.status == 403 and b"number-of-matches-within-limits" in r.body:
        return  # RFC 6578 §3.6 allows refusing the limit
    rs = responses(r)
    cards = [h for h in rs if h != wbook()]
    expect(len(cards) <= 1, f"limit 1 gave {len(cards)} members", r)
    expect(wbook() in rs and " 507 " in rs[wbook()].findtext("d:status", "", NS) + " ", "truncation not reported as 507", r)
    token = r.xml().findtext("d:sync-token", None, NS)
    seen = set(cards)
    for _ in range(10):
        body2 = body.replace("<d:sync-token/>", f"<d:sync-token>{token}</d:sync-token>")
        r2 = request("REPORT", wbook(), body2, {"Depth": "0"})
        rs2 = responses(r2)
        seen |= {h for h in rs2 if h != wbook()}
        token = r2.xml().findtext("d:sync-token", None, NS)
        if wbook() not in rs2:
            break
    want = {STATE["alpha"], STATE["beta"], STATE["gamma"]}
    expect(want <= seen, f"continuing from the 507 tokens did not list every member ({sorted(seen)})", r)


@check
def rfc6352_s6_3_2_1_unsupported_media_type_415():
    r = put_card(wbook(), "json.vcf", '{"not": "a vcard"}', {"Content-Type": "application/json", "If-None-Match": "*"})
    expect_status(r, 415)
    expect(b"supported-address-data" in r.body, "415 without CARDDAV:supported-address-data", r)


@check
def rfc6352_s6_3_2_1_broken_vcard_valid_address_data():
    r = put_card(wbook(), "broken.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No End\r\n", {"If-None-Match": "*"})
    expect(400 <= r.status < 500, f"a vCard without END answered {r.status}", r)
    expect(b"valid-address-data" in r.body, "no CARDDAV:valid-address-data in the error", r)


@check
def rfc6352_s6_3_2_1_no_uid_conflict_names_the_other_href():
    r = put_card(wbook(), "alpha-dup.vcf", vcard(STATE["alpha_uid"], "Duplicate"), {"If-None-Match": "*"})
    expect(r.status in (403, 409), f"duplicate UID answered {r.status}", r)
    x = r.xml()
    hrefs = [path_of(h.text or "") for h in x.iter(f"{{{D}}}href")]
    expect(STATE["alpha"] in [urllib.parse.unquote(h) for h in hrefs], f"no-uid-conflict does not name {STATE['alpha']} ({hrefs})", r)


@check
def rfc2425_text_x_vcard_put_accepted():
    r = put_card(wbook(), "legacy.vcf", vcard(str(uuid.uuid4()), "Legacy Type"), {"Content-Type": "text/x-vcard", "If-None-Match": "*"})
    expect_status(r, 201)
    d = request("DELETE", wbook() + "legacy.vcf")
    expect_status(d, 200, 204)


@check
def rfc6352_s6_2_3_max_resource_size_413():
    r = propfind(wbook(), "<c:max-resource-size/>")
    el = prop_ok(next(iter(responses(r).values())), "c:max-resource-size")
    if el is None:
        return
    limit = int(el.text)
    note = "NOTE:" + "x" * (limit + 1024)
    p = put_card(wbook(), "huge.vcf", vcard(str(uuid.uuid4()), "Too Big", note), {"If-None-Match": "*"})
    expect(p.status in (403, 413), f"a card over max-resource-size answered {p.status}", p)
    expect(p.status == 413 or b"max-resource-size" in p.body, "403 without CARDDAV:max-resource-size", p)


@check
def rfc6352_s6_3_2_photo_round_trips():
    import struct, zlib
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\x00\xff\x00" * 2)) + chunk(b"IEND", b"")
    b64 = base64.b64encode(png).decode()
    uid = str(uuid.uuid4())
    r = put_card(wbook(), "photo.vcf", vcard(uid, "Photo Person", f"PHOTO;ENCODING=b;TYPE=PNG:{b64}"), {"If-None-Match": "*"})
    expect_status(r, 201)
    g = request("GET", wbook() + "photo.vcf")
    text = g.body.decode().replace("\r\n ", "").replace("\n ", "")
    expect("PHOTO" in text, "PHOTO lost", g)
    expect(b64 in text, "PHOTO bytes changed", g)
    expect_status(request("DELETE", wbook() + "photo.vcf"), 200, 204)


@check
def rfc4918_s9_2_proppatch_displayname_and_atomicity():
    body = (
        f"{XML_HEAD}<d:propertyupdate {NSDECL}><d:set><d:prop><d:displayname>Smoke renamed ü</d:displayname>"
        "</d:prop></d:set></d:propertyupdate>"
    )
    r = request("PROPPATCH", wbook(), body)
    expect_status(r, 207)
    p = propfind(wbook(), "<d:displayname/>")
    expect(single(p, "d:displayname").text == "Smoke renamed ü", "displayname not renamed", p)
    mixed = (
        f"{XML_HEAD}<d:propertyupdate {NSDECL}><d:set><d:prop><d:displayname>Must not stick</d:displayname>"
        "<d:getetag>\"x\"</d:getetag></d:prop></d:set></d:propertyupdate>"
    )
    r = request("PROPPATCH", wbook(), mixed)
    expect_status(r, 207)
    stats = {}
    for ps in r.xml().iter(f"{{{D}}}propstat"):
        st = ps.findtext("d:status", "", NS)
        for el in ps.find("d:prop", NS) or []:
            stats[el.tag] = st
    expect(" 403 " in stats.get(f"{{{D}}}getetag", "") + " ", f"protected getetag not 403 ({stats})", r)
    expect(" 424 " in stats.get(f"{{{D}}}displayname", "") + " ", f"displayname of a failed PROPPATCH not 424 ({stats})", r)
    p = propfind(wbook(), "<d:displayname/>")
    expect(single(p, "d:displayname").text == "Smoke renamed ü", "a failed PROPPATCH changed displayname", p)


@check
def rfc4918_s9_9_move_card_between_books():
    other = f"{STATE['home']}smoke-move-{uuid.uuid4().hex[:8]}/"
    body = (
        f"{XML_HEAD}<d:mkcol {NSDECL}><d:set><d:prop><d:resourcetype><d:collection/><c:addressbook/>"
        "</d:resourcetype></d:prop></d:set></d:mkcol>"
    )
    expect_status(request("MKCOL", other, body), 201)
    STATE["other"] = other
    src = STATE["gamma"]
    dest = urllib.parse.urljoin(BASE, other + "gamma.vcf")
    r = request("MOVE", src, headers={"Destination": dest, "Overwrite": "F"})
    if r.status == 501:
        raise Check("MOVE not implemented (clients then PUT + DELETE)")
    expect_status(r, 201, 204)
    expect_status(request("GET", src), 404)
    g = request("GET", other + "gamma.vcf")
    expect_status(g, 200)
    expect(b"Smoke Gamma Query" in g.body, "moved card lost its content", g)
    STATE["gamma"] = other + "gamma.vcf"


@check
def rfc5995_s3_add_member_only_if_post_creates():
    r = propfind(wbook(), "<d:add-member/>")
    el = prop_ok(next(iter(responses(r).values())), "d:add-member")
    if el is None:
        return  # not advertised: fine (clients then PUT)
    target = el.findtext("d:href", "", NS)
    p = request("POST", target, vcard(str(uuid.uuid4()), "Posted Card"), {"Content-Type": "text/vcard"})
    expect_status(p, 201)
    expect(bool(p.header("location")), "POST add-member without Location", p)


# ------------------------------------------------------------------ RFC 6578

@check
def rfc6578_s3_8_invalid_sync_token_is_403_valid_sync_token():
    if not STATE.get("sync"):
        raise Check("sync-collection not advertised")
    r = sync_collection(wbook(), "http://example.com/not-a-token-of-this-server")
    expect_status(r, 403)
    expect(b"valid-sync-token" in r.body, "403 without DAV:valid-sync-token", r)


@check
def rfc6578_s3_initial_and_delta_sync():
    if not STATE.get("sync"):
        raise Check("sync-collection not advertised")
    r = sync_collection(wbook(), "")
    rs = responses(r)
    expect({STATE["alpha"], STATE["beta"]} <= set(rs), f"initial sync lacks our cards ({sorted(rs)})", r)
    token = r.xml().findtext("d:sync-token", None, NS)
    expect(bool(token), "initial sync without a sync-token", r)
    # one change, one delete
    g = request("GET", STATE["beta"])
    e = g.header("etag")
    changed = g.body.decode().replace("END:VCARD", "NOTE:delta\r\nEND:VCARD")
    u = put_card(wbook(), "beta.vcf", changed, {"If-Match": e} if e else {})
    expect_status(u, 200, 204)
    d = request("DELETE", STATE["alpha"], headers={"If-Match": STATE["alpha_etag"]} if STATE["alpha_etag"] else {})
    expect_status(d, 200, 204)
    r2 = sync_collection(wbook(), token)
    rs2 = responses(r2)
    expect(STATE["beta"] in rs2, "delta lacks the changed card", r2)
    expect(prop_ok(rs2[STATE["beta"]], "d:getetag") is not None, "changed card without getetag", r2)
    expect(STATE["alpha"] in rs2, "delta lacks the deleted card", r2)
    st = rs2[STATE["alpha"]].findtext("d:status", "", NS)
    expect(" 404 " in st + " ", f"deleted card reported with {st!r}, not 404", r2)
    expect(not (set(rs2) - {STATE["beta"], STATE["alpha"]}), f"delta reports unchanged members {sorted(rs2)}", r2)
    token2 = r2.xml().findtext("d:sync-token", None, NS)
    r3 = sync_collection(wbook(), token2)
    expect(not responses(r3), "a sync from the newest token is not empty", r3)
    STATE.pop("alpha_etag")


@check
def rfc4918_s9_6_deleted_card_is_gone():
    if "alpha_etag" in STATE:  # the sync check did not get to delete it
        d = request("DELETE", STATE["alpha"])
        expect_status(d, 200, 204)
    g = request("GET", STATE["alpha"])
    expect_status(g, 404)
    d = request("DELETE", STATE["alpha"])
    expect_status(d, 404)


@check
def rfc7232_s3_1_stale_if_match_delete_is_412():
    r = request("DELETE", STATE["beta"], headers={"If-Match": '"stale"'})
    expect_status(r, 412)
    expect_status(request("GET", STATE["beta"]), 200)


# ------------------------------------------------------------------ edits made in Outlook (cardbridge demo)

def emulator(method, path, body=None):
    req = urllib.request.Request(EMULATOR + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


@check
def rfc6578_s3_outlook_side_changes_reach_sync_collection():
    if not EMULATOR:
        print("[SKIP] rfc6578_s3_outlook_side_changes_reach_sync_collection: no EMULATOR_URL")
        return "skip"
    book = STATE["book"]
    r = sync_collection(book, "")
    token = r.xml().findtext("d:sync-token", None, NS)
    ctag1, _ = ctag_and_token(book)
    info = emulator("GET", "/_emulator/info")
    user = info["default_user"]
    created = emulator("POST", f"/_emulator/users/{urllib.parse.quote(user)}/contacts",
                       {"givenName": "Outlook", "surname": "Smokeedit", "displayName": "Outlook Smokeedit",
                        "emailAddresses": [{"address": "outlook.smoke@example.com", "name": "Outlook Smokeedit"}]})
    r2 = sync_collection(book, token, "<d:getetag/><c:address-data/>")
    rs = responses(r2)
    hits = [h for h, resp in rs.items() if "outlook.smoke@example.com" in card_text(resp)]
    expect(len(hits) == 1, f"the contact created in Outlook is not in the delta ({sorted(rs)})", r2)
    ctag2, _ = ctag_and_token(book)
    expect(ctag2 != ctag1, "getctag unchanged after an Outlook-side create")
    token2 = r2.xml().findtext("d:sync-token", None, NS)
    emulator("PATCH", f"/_emulator/users/{urllib.parse.quote(user)}/contacts/{urllib.parse.quote(created['id'])}", {"jobTitle": "Smoke Tester"})
    r3 = sync_collection(book, token2, "<d:getetag/><c:address-data/>")
    rs3 = responses(r3)
    expect(hits[0] in rs3, "an Outlook-side edit is not in the delta", r3)
    expect("Smoke Tester" in card_text(rs3[hits[0]]), "the edit is not in the card", r3)
    token3 = r3.xml().findtext("d:sync-token", None, NS)
    emulator("DELETE", f"/_emulator/users/{urllib.parse.quote(user)}/contacts/{urllib.parse.quote(created['id'])}")
    r4 = sync_collection(book, token3)
    rs4 = responses(r4)
    expect(hits[0] in rs4 and " 404 " in rs4[hits[0]].findtext("d:status", "", NS) + " ", "an Outlook-side delete is not reported as 404", r4)


# ------------------------------------------------------------------ clean-up

@check
def rfc4918_s9_2_proppatch_protected_property_403():
    body = (
        f"{XML_HEAD}<d:propertyupdate {NSDECL}><d:set><d:prop><d:resourcetype><d:collection/></d:resourcetype>"
        "</d:prop></d:set></d:propertyupdate>"
    )
    r = request("PROPPATCH", wbook(), body)
    p = propfind(wbook(), "<d:resourcetype/>")
    rs = list(responses(p).values()) if p.status == 207 else []
    rt = prop_ok(rs[0], "d:resourcetype") if rs else None
    expect(rt is not None and rt.find("c:addressbook", NS) is not None,
           f"PROPPATCH of DAV:resourcetype (answered {r.status}) turned the address book into something else", p)
    if r.status == 207:
        stat = " ".join(s.text or "" for s in r.xml().iter(f"{{{D}}}status"))
        expect(" 403 " in stat + " ", "PROPPATCH of DAV:resourcetype not refused with 403", r)
    else:
        expect_status(r, 403, 207)



@check
def rfc6352_default_address_book_cannot_be_deleted():
    if not EMULATOR:
        print("[SKIP] rfc6352_default_address_book_cannot_be_deleted: not the demo (would risk real data)")
        return "skip"
    r = request("DELETE", STATE["book"])
    expect_status(r, 403)
    expect_status(propfind(STATE["book"], "<d:resourcetype/>"), 207)


@check
def rfc4918_s9_6_1_delete_address_book():
    book = wbook()
    r = request("DELETE", book)
    expect_status(r, 200, 204)
    p = propfind(book, "<d:resourcetype/>")
    expect_status(p, 404)
    STATE.pop("wbook")


def main() -> int:
    failed = 0
    for fn in CHECKS:
        name = fn.__name__
        try:
            if fn() == "skip":
                continue
            print(f"[PASS] {name}", flush=True)
        except Check as e:
            failed += 1
            first, _, rest = str(e).partition("\n")
            print(f"[FAIL] {name}: {first}", flush=True)
            if rest:
                print(rest, flush=True)
        except Exception as e:  # noqa: BLE001 - a crash of one check is that check's failure
            failed += 1
            print(f"[FAIL] {name}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stdout)
    for key in ("wbook", "other"):
        if key in STATE:
            request("DELETE", STATE[key])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
