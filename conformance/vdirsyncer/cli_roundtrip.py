#!/usr/bin/env python3
"""vdirsyncer 0.21.0 CLI two-way sync round trip against a running CardDAV server.

Reads DAV_URL, DAV_USER, DAV_PASS (and EMULATOR_URL when the server is `cardbridge demo`: then
the server-side edits are also made "in Outlook", through the emulator's admin API). Runs the real
`vdirsyncer` command (discover, sync, metasync) on a temporary config and local folder, and after
each step compares the local .vcf files with what the server serves (raw PROPFIND / multiget).
Prints `[PASS] name` / `[FAIL] name: why` per step; exit status 1 when any failed. Steps depend on
each other: after a failure the remaining steps still run but may fail as a consequence.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

BASE = os.environ["DAV_URL"]
USER = os.environ["DAV_USER"]
PASS = os.environ["DAV_PASS"]
EMULATOR = os.environ.get("EMULATOR_URL", "").rstrip("/")
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASS}".encode()).decode()
NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:carddav"}
BOOK_NAME = "contacts"  # the local collection name of the book every step works on


class Fail(Exception):
    pass


def http(method, url, body=None, headers=None):
    """(status, headers, body) of one authenticated request; never raises on 4xx/5xx."""
    req = urllib.request.Request(urllib.parse.urljoin(BASE, url), data=body, method=method)
    req.add_header("Authorization", AUTH)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def emulator(method, path, body=None):
    req = urllib.request.Request(
        EMULATOR + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def vcard_uid(text: str) -> str | None:
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.upper().startswith("UID:"):
            return line[4:].strip()
    return None


def discover_book() -> str:
    """Path of the server book vdirsyncer calls `contacts` (principal → home → children)."""
    def prop(path, p, depth="0"):
        body = f'<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="{NS["c"]}"><d:prop>{p}</d:prop></d:propfind>'
        st, _, b = http("PROPFIND", path, body.encode(), {"Depth": depth, "Content-Type": "application/xml"})
        if st != 207:
            raise Fail(f"PROPFIND {path} answered {st}")
        return ET.fromstring(b)

    root = prop(BASE, "<d:current-user-principal/>")
    principal = root.find(".//d:current-user-principal/d:href", NS).text
    home = prop(principal, "<c:addressbook-home-set/>").find(".//c:addressbook-home-set/d:href", NS).text
    for resp in prop(home, "<d:resourcetype/>", "1").findall("d:response", NS):
        href = resp.findtext("d:href", "", NS)
        if resp.find(".//c:addressbook", NS) is not None and href.rstrip("/").split("/")[-1] == BOOK_NAME:
            return urllib.parse.urlsplit(urllib.parse.urljoin(BASE, href)).path
    raise Fail(f"no address book named {BOOK_NAME!r} under {home}")


def server_cards(book: str) -> dict[str, tuple[str, str, str]]:
    """UID → (href path, etag, vCard text) of every card in the book."""
    body = (
        f'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>'
    )
    st, _, b = http("PROPFIND", book, body.encode(), {"Depth": "1", "Content-Type": "application/xml"})
    if st != 207:
        raise Fail(f"PROPFIND Depth 1 {book} answered {st}")
    hrefs = []
    for resp in ET.fromstring(b).findall("d:response", NS):
        if resp.find(".//d:collection", NS) is None:
            hrefs.append(resp.findtext("d:href", "", NS))
    out = {}
    if not hrefs:
        return out
    mg = (
        f'<?xml version="1.0"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="{NS["c"]}"><d:prop><d:getetag/>'
        "<c:address-data/></d:prop>" + "".join(f"<d:href>{h}</d:href>" for h in hrefs) + "</c:addressbook-multiget>"
    )
    st, _, b = http("REPORT", book, mg.encode(), {"Depth": "1", "Content-Type": "application/xml"})
    if st != 207:
        raise Fail(f"multiget on {book} answered {st}")
    for resp in ET.fromstring(b).findall("d:response", NS):
        data = resp.findtext(".//c:address-data", None, NS)
        if data is None:
            continue
        uid = vcard_uid(data)
        href = urllib.parse.unquote(urllib.parse.urlsplit(resp.findtext("d:href", "", NS)).path)
        out[uid] = (href, resp.findtext(".//d:getetag", "", NS), data)
    return out


class Roundtrip:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.local = tmp / "local"
        self.cfg = tmp / "config"
        self.cfg.write_text(
            f"""[general]
status_path = "{tmp / 'status'}/"

[pair conformance]
a = "conformance_local"
b = "conformance_remote"
collections = ["from b"]
metadata = ["displayname"]

[storage conformance_local]
type = "filesystem"
path = "{self.local}/"
fileext = ".vcf"

[storage conformance_remote]
type = "carddav"
url = "{BASE}"
username = "{USER}"
password = "{PASS}"
"""
        )
        self.book = ""
        self.state: dict[str, str] = {}

    def vds(self, *args, stdin="") -> str:
        p = subprocess.run(
            [sys.executable, "-m", "vdirsyncer", "-c", str(self.cfg), *args],
            input=stdin, capture_output=True, text=True, timeout=180,
        )
        out = p.stdout + p.stderr
        if p.returncode != 0:
            raise Fail(f"`vdirsyncer {' '.join(args)}` exited {p.returncode}:\n{out}")
        if "error:" in out.lower():
            raise Fail(f"`vdirsyncer {' '.join(args)}` reported errors:\n{out}")
        return out

    def local_cards(self) -> dict[str, tuple[Path, str]]:
        out = {}
        for f in sorted((self.local / BOOK_NAME).glob("*.vcf")):
            text = f.read_text(encoding="utf-8")
            out[vcard_uid(text)] = (f, text)
        return out

    def same_uids(self, step: str):
        server = server_cards(self.book)
        local = self.local_cards()
        if set(server) != set(local):
            raise Fail(
                f"after {step}: local and server differ; only on the server {sorted(set(server) - set(local))}, "
                f"only local {sorted(set(local) - set(server))}"
            )
        return server, local

    # ----------------------------------------------------------- steps

    def step_discover(self):
        self.book = discover_book()
        # A server other than the demo may start with an empty book: give the sync something.
        if len(server_cards(self.book)) < 3:
            for i in range(3):
                uid = f"conformance-seed-{uuid.uuid4()}"
                card = f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Seed Card {i}\r\nN:Card {i};Seed;;;\r\nEND:VCARD\r\n"
                st, _, b = http("PUT", f"{self.book}{uid}.vcf", card.encode(),
                                {"If-None-Match": "*", "Content-Type": "text/vcard; charset=utf-8"})
                if st != 201:
                    raise Fail(f"seeding PUT answered {st}: {b[:300]!r}")
        out = self.vds("discover", stdin="y\n" * 50)
        if not (self.local / BOOK_NAME).is_dir():
            raise Fail(f"discover did not create the local collection {BOOK_NAME}/:\n{out}")

    def step_initial_sync_downloads_every_card(self):
        self.vds("sync")
        server, local = self.same_uids("the first sync")
        if not server:
            raise Fail("the server book is empty; nothing was exercised")
        for uid, (_, _, data) in server.items():
            if "FN:" not in local[uid][1]:
                raise Fail(f"local copy of {uid} has no FN")

    def step_metasync_displayname(self):
        self.vds("metasync")
        body = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>'
        st, _, b = http("PROPFIND", self.book, body.encode(), {"Depth": "0", "Content-Type": "application/xml"})
        server_name = ET.fromstring(b).findtext(".//d:displayname", "", NS)
        f = self.local / BOOK_NAME / "displayname"
        local_name = f.read_text(encoding="utf-8").strip() if f.exists() else ""
        if not server_name or server_name != local_name:
            raise Fail(f"displayname: server {server_name!r}, local {local_name!r}")

    def step_local_edit_uploaded(self):
        local = self.local_cards()
        uid = sorted(local)[0]
        path, text = local[uid]
        marker = f"edited locally {uuid.uuid4().hex[:8]}"
        lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if not ln.upper().startswith("NOTE")]
        end = lines.index("END:VCARD")
        lines.insert(end, f"NOTE:{marker}")
        path.write_text("\r\n".join(lines), encoding="utf-8")
        self.vds("sync")
        server, _ = self.same_uids("a local edit")
        if marker not in server[uid][2]:
            raise Fail(f"the server copy of {uid} lacks the local edit {marker!r}:\n{server[uid][2]}")
        self.state["edited_uid"] = uid

    def step_local_create_uploaded(self):
        uid = f"conformance-{uuid.uuid4()}"
        card = (
            f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Local Newcard\r\nN:Newcard;Local;;;\r\n"
            "EMAIL;TYPE=INTERNET:local.newcard@example.com\r\nTEL;TYPE=CELL:+41 79 000 00 00\r\n"
            "item1.X-ABLABEL:custom label\r\nX-CONFORMANCE;X-KEEP=yes:round trip\r\nEND:VCARD\r\n"
        )
        (self.local / BOOK_NAME / f"{uid}.vcf").write_text(card, encoding="utf-8")
        self.vds("sync")
        server, local = self.same_uids("a local create")
        data = server[uid][2]
        for want in ("local.newcard@example.com", "+41 79 000 00 00", "item1.X-ABLABEL:custom label",
                     "X-CONFORMANCE;X-KEEP=yes:round trip"):
            if want not in data:
                raise Fail(f"the uploaded card lost {want!r}:\n{data}")
        self.state["new_uid"] = uid

    def step_server_edit_downloaded(self):
        server = server_cards(self.book)
        uid = self.state["new_uid"]
        href, etag, data = server[uid]
        marker = f"server edit {uuid.uuid4().hex[:8]}"
        changed = data.replace("FN:Local Newcard", f"FN:Local Newcard\r\nTITLE:{marker}")
        st, _, b = http("PUT", href, changed.encode(), {"If-Match": etag, "Content-Type": "text/vcard; charset=utf-8"})
        if st not in (200, 201, 204):
            raise Fail(f"raw PUT {href} with If-Match answered {st}: {b[:300]!r}")
        self.vds("sync")
        _, local = self.same_uids("a server-side edit")
        if marker not in local[uid][1]:
            raise Fail(f"the local copy lacks the server-side edit {marker!r}:\n{local[uid][1]}")

    def step_outlook_create_downloaded(self):
        if not EMULATOR:
            return "skip"
        user = urllib.parse.quote(emulator("GET", "/_emulator/info")["default_user"])
        c = emulator("POST", f"/_emulator/users/{user}/contacts", {
            "givenName": "Outlook", "surname": "Roundtrip", "displayName": "Outlook Roundtrip",
            "emailAddresses": [{"address": "outlook.roundtrip@example.com", "name": "Outlook Roundtrip"}],
        })
        self.state["outlook_id"] = c["id"]
        self.vds("sync")
        _, local = self.same_uids("a create in Outlook")
        hits = [u for u, (_, t) in local.items() if "outlook.roundtrip@example.com" in t]
        if len(hits) != 1:
            raise Fail(f"the contact created in Outlook is {len(hits)} times in the local folder")
        self.state["outlook_uid"] = hits[0]

    def step_outlook_edit_downloaded(self):
        if not EMULATOR:
            return "skip"
        user = urllib.parse.quote(emulator("GET", "/_emulator/info")["default_user"])
        emulator("PATCH", f"/_emulator/users/{user}/contacts/{urllib.parse.quote(self.state['outlook_id'])}",
                 {"jobTitle": "Edited In Outlook"})
        self.vds("sync")
        _, local = self.same_uids("an edit in Outlook")
        text = local[self.state["outlook_uid"]][1]
        if "Edited In Outlook" not in text:
            raise Fail(f"the Outlook edit did not reach the local copy:\n{text}")

    def step_local_delete_propagated(self):
        uid = self.state["new_uid"]
        path = self.local_cards()[uid][0]
        href = server_cards(self.book)[uid][0]
        path.unlink()
        self.vds("sync")
        server, _ = self.same_uids("a local delete")
        if uid in server:
            raise Fail(f"{uid} is still on the server")
        st, _, _ = http("GET", href)
        if st != 404:
            raise Fail(f"GET {href} after the delete answered {st}, not 404")

    def step_server_delete_propagated(self):
        uid = self.state["edited_uid"]
        href, etag, _ = server_cards(self.book)[uid]
        st, _, b = http("DELETE", href, None, {"If-Match": etag})
        if st not in (200, 204):
            raise Fail(f"raw DELETE {href} answered {st}: {b[:300]!r}")
        self.vds("sync")
        _, local = self.same_uids("a server-side delete")
        if uid in local:
            raise Fail(f"{uid} is still in the local folder")

    def step_outlook_delete_propagated(self):
        if not EMULATOR:
            return "skip"
        user = urllib.parse.quote(emulator("GET", "/_emulator/info")["default_user"])
        emulator("DELETE", f"/_emulator/users/{user}/contacts/{urllib.parse.quote(self.state['outlook_id'])}")
        self.vds("sync")
        _, local = self.same_uids("a delete in Outlook")
        if self.state["outlook_uid"] in local:
            raise Fail("the contact deleted in Outlook is still in the local folder")

    def step_resync_changes_nothing(self):
        before = {u: t for u, (_, t) in self.local_cards().items()}
        etags = {u: e for u, (_, e, _) in server_cards(self.book).items()}
        self.vds("sync")
        after = {u: t for u, (_, t) in self.local_cards().items()}
        etags2 = {u: e for u, (_, e, _) in server_cards(self.book).items()}
        if before != after:
            raise Fail("a sync with nothing changed rewrote local files")
        if etags != etags2:
            changed = sorted(u for u in etags if etags.get(u) != etags2.get(u))
            raise Fail(f"a sync with nothing changed changed server ETags of {changed}")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="vdirsyncer-cli-"))
    failed = 0
    try:
        rt = Roundtrip(tmp)
        order = [
            "discover", "initial_sync_downloads_every_card", "metasync_displayname",
            "local_edit_uploaded", "local_create_uploaded", "server_edit_downloaded",
            "outlook_create_downloaded", "outlook_edit_downloaded", "local_delete_propagated",
            "server_delete_propagated", "outlook_delete_propagated", "resync_changes_nothing",
        ]
        for step in order:
            name = f"cli_{step}"
            try:
                if getattr(rt, f"step_{step}")() == "skip":
                    print(f"[SKIP] {name}: no EMULATOR_URL (not cardbridge demo)", flush=True)
                    continue
                print(f"[PASS] {name}", flush=True)
            except Fail as e:
                failed += 1
                first, _, rest = str(e).partition("\n")
                print(f"[FAIL] {name}: {first}", flush=True)
                if rest:
                    print("    " + rest.replace("\n", "\n    "), flush=True)
            except Exception as e:  # noqa: BLE001 - one crashing step is that step's failure
                failed += 1
                print(f"[FAIL] {name}: {type(e).__name__}: {e}", flush=True)
                traceback.print_exc(file=sys.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
