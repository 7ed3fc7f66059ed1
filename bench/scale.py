#!/usr/bin/env python3
"""Graph requests, memory and cold start of `cardbridge serve` at 100 to 100,000 contacts (issue 9).

Started by bench/run.sh (`--only graph|memory|coldstart`). Unlike bench.py, which drives `demo`,
everything here runs the bridge as it runs in production: `cardbridge emulator` in one process
(seeded through its admin API, `/_emulator/seed`), `cardbridge serve` against it in another, set
up with `login`, `user add` and a config file in a temporary directory. So the RSS measured is
the bridge alone, and the Graph requests are the emulator's `/_emulator/stats` counts (requests
outside `/_emulator/`; a `$batch` counts once).

Each part prints a Markdown section; with --write it replaces that section in BENCHMARKS.md.
"""

import argparse
import base64
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from common import free_port, pinned

NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:carddav"}
PASSWORD = "bench-password"
TENANT = "contoso.onmicrosoft.com"





def call(port, method, path, body=None, headers=None, user=None, timeout=900):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if user:
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    hdrs = dict(r.getheaders())
    conn.close()
    return r.status, data, hdrs


def proc_status(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Emulator:
    """`cardbridge emulator` in its own process (no throttling, device codes auto-approved)."""

    def __init__(self, binary, work):
        self.port = free_port()
        self.log = open(os.path.join(work, "emulator.log"), "w")
        argv = [binary, "emulator", "--listen", f"127.0.0.1:{self.port}", "--no-throttle", "--auto-approve"]
        self.proc = subprocess.Popen(pinned(0, argv), stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 60
        while time.time() < end:
            try:
                self.info = self.admin("GET", "info")
                return
            except OSError:
                time.sleep(0.1)
        sys.exit("the emulator did not come up")

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def admin(self, method, path, body=None):
        status, data, _ = call(self.port, method, f"/_emulator/{path}", body)
        if status >= 300:
            raise RuntimeError(f"emulator {method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None

    def seed(self, count, user=None):
        body = {"count": count, "rng_seed": 7}
        if user:
            body["user"] = user
        return self.admin("POST", "seed", body)

    def reset(self):
        self.admin("POST", "stats/reset")

    def stats(self):
        return self.admin("GET", "stats")

    def close(self):
        stop(self.proc)


class Bridge:
    """A config file, state file and (when started) a `cardbridge serve` process."""

    def __init__(self, binary, emu, work, bridge_toml, app_only_users=None):
        self.binary, self.emu, self.dir = binary, emu, tempfile.mkdtemp(prefix="bridge-", dir=work)
        self.port = free_port()
        self.proc = None
        self.config = os.path.join(self.dir, "cardbridge.toml")
        graph = f'root = "{emu.base}"\nauthority = "{emu.base}"\nclient_id = "{emu.info["client_id"]}"\n'
        mailboxes = ""
        if app_only_users:
            graph += f'tenant = "{TENANT}"\nclient_secret = "bench-secret"\n'
            graph += "mailboxes = [" + ", ".join(f'"{m}"' for _, m in app_only_users) + "]\n"
            mailboxes = "".join(f'\n[[bridge.mailboxes]]\nuser = "{u}"\nmailbox = "{m}"\n' for u, m in app_only_users)
        with open(self.config, "w") as f:
            f.write(
                f'[server]\nlisten = "127.0.0.1:{self.port}"\nuser_requests_per_sec = 0\n\n'
                f"[graph]\n{graph}\n[bridge]\n{bridge_toml}\n{mailboxes}\n"
                f'[state]\npath = "{os.path.join(self.dir, "state.redb")}"\n'
            )

    def cli(self, *args, stdin=None):
        r = subprocess.run([self.binary, *args[:1], "--config", self.config, *args[1:]], input=stdin,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"cardbridge {' '.join(args)}: {r.stderr}")
        return r.stdout

    def add_user(self, name):
        self.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")

    def start(self, deadline_s=600):
        """Start `serve`; returns seconds until /readyz answered 200."""
        log = open(os.path.join(self.dir, "serve.log"), "a")
        t0 = time.time()
        self.proc = subprocess.Popen(pinned(1, [self.binary, "serve", "--config", self.config]),
                                     stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"})
        while time.time() < t0 + deadline_s:
            try:
                if call(self.port, "GET", "/readyz", timeout=5)[0] == 200:
                    return time.time() - t0
            except OSError:
                pass
            if self.proc.poll() is not None:
                sys.exit(f"serve exited; see {self.dir}/serve.log")
            time.sleep(0.01)
        sys.exit("serve never became ready")

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None

    def memory(self):
        return proc_status(self.proc.pid)


# ---------------------------------------------------------------- CardDAV client side

PROPFIND_ETAGS = b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'


def xml_call(port, user, method, path, body, depth):
    status, data, _ = call(port, method, path, body, {"Depth": depth, "Content-Type": "application/xml"}, user)
    if status != 207:
        raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
    return ET.fromstring(data)


def discover(port, user):
    """Discovery as a client does it: principal, home set, the books in the home."""
    root = xml_call(port, user, "PROPFIND", "/",
                    b'<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>', "0")
    principal = root.find(".//d:current-user-principal/d:href", NS).text
    root = xml_call(port, user, "PROPFIND", principal,
                    b'<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop>'
                    b"<c:addressbook-home-set/></d:prop></d:propfind>", "0")
    home = root.find(".//c:addressbook-home-set/d:href", NS).text
    root = xml_call(port, user, "PROPFIND", home,
                    b'<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:displayname/><d:sync-token/>'
                    b"</d:prop></d:propfind>", "1")
    books = {}
    for r in root.findall("d:response", NS):
        href = r.find("d:href", NS).text
        if r.find(".//c:addressbook", NS) is not None or r.find(".//d:resourcetype/{urn:ietf:params:xml:ns:carddav}addressbook", NS) is not None:
            books[href] = r.find(".//d:sync-token", NS).text
    return books


def list_book(port, user, book):
    root = xml_call(port, user, "PROPFIND", book, PROPFIND_ETAGS, "1")
    return [r.find("d:href", NS).text for r in root.findall("d:response", NS) if not r.find("d:href", NS).text.endswith("/")]


def multiget(port, user, book, hrefs):
    inner = "".join(f"<d:href>{h}</d:href>" for h in hrefs)
    body = ('<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
            f"<d:prop><d:getetag/><c:address-data/></d:prop>{inner}</c:addressbook-multiget>").encode()
    root = xml_call(port, user, "REPORT", book, body, "1")
    return [(r.find("d:href", NS).text, r.find(".//d:getetag", NS).text, r.find(".//c:address-data", NS).text)
            for r in root.findall("d:response", NS)]


def full_sync(port, user, chunk=100):
    """A client's first sync: discovery, listing, multiget of everything. Returns
    {book: {"token", "cards": {href: (etag, vcard)}}}."""
    out = {}
    for book, token in discover(port, user).items():
        hrefs = list_book(port, user, book)
        cards = {}
        for i in range(0, len(hrefs), chunk):
            for href, etag, data in multiget(port, user, book, hrefs[i:i + chunk]):
                cards[href] = (etag, data)
        out[book] = {"token": token, "cards": cards}
    return out


def sync_collection(port, user, book, token):
    body = ('<d:sync-collection xmlns:d="DAV:"><d:sync-token>'
            f"{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>").encode()
    root = xml_call(port, user, "REPORT", book, body, "0")
    changed = [r.find("d:href", NS).text for r in root.findall("d:response", NS)]
    return root.find("d:sync-token", NS).text, changed


def poll(port, user, tokens):
    """One client's no-change poll: a sync-collection per book."""
    for book, token in tokens.items():
        _, changed = sync_collection(port, user, book, token)
        assert not changed, changed


def vcard_bytes(cards):
    return sum(len(data.replace("\r\n", "\n").replace("\n", "\r\n").encode()) for _, data in cards.values())


def new_card(uid):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"UID:{uid}\r\nFN:Bench {uid[:8]}\r\nN:{uid[:8]};Bench;;;\r\nEMAIL;TYPE=work:{uid[:8]}@bench.example\r\n"
            "TEL;TYPE=cell:+41 79 555 01 23\r\nEND:VCARD\r\n")


# ---------------------------------------------------------------- Graph requests


def route_summary(stats):
    return ", ".join(f"{k.split(' ', 1)[0]} {k.split(' ', 1)[1].replace('/{u}', '')} ×{v}" for k, v in sorted(stats["by_route"].items()))


def minimum_first_sync(per_folder, photos):
    """Fewest Graph requests a first load of these folders can take (graph.md §4.1, §4.7, §4.8, §6):
    the default folder (1), the top-level folder list (1) and one childFolders list per other folder
    (Graph has no recursive folder listing); per folder one delta round of ceil(n/500) pages (at
    least one, it yields the delta link) and ceil(n/1000) list pages to read the extended
    properties delta does not return; photos are not in delta: one `$batch` per 20 photos."""
    token = 1  # the bridge redeems its stored refresh token once (counted by the emulator)
    tree = 2 + (len(per_folder) - 1)
    delta = sum(max(1, -(-n // 500)) for n in per_folder)
    lists = sum(-(-n // 1000) for n in per_folder)
    return token + tree + delta + lists + -(-photos // 20)


def graph_part(binary, work, sizes, freshness):
    rows = []
    for n in sizes:
        print(f"== Graph requests, {n} contacts", flush=True)
        emu = Emulator(binary, work)
        emu.seed(n)
        user = "alice"
        br = Bridge(binary, emu, work, f"freshness_secs = {freshness}\n")
        br.cli("login")
        br.add_user(user)
        br.start()
        emu.reset()
        t0 = time.time()
        books = full_sync(br.port, user)
        sync_s = time.time() - t0
        first = emu.stats()
        per_folder = [len(b["cards"]) for b in books.values()]
        photos = sum(1 for b in books.values() for _, d in b["cards"].values() if "PHOTO" in d)
        total = sum(per_folder)
        assert total == n, (total, n)
        tokens = {bk: sync_collection(br.port, user, bk, b["token"])[0] for bk, b in books.items()}
        row = {"n": n, "folders": len(books), "photos": photos, "first": first["total"],
               "first_min": minimum_first_sync(per_folder, photos), "first_routes": route_summary(first),
               "first_s": sync_s}

        # No-change polls inside the freshness window: 1 client, then 50 at once. An
        # uncounted poll first makes sure the window has just started (loading 100,000
        # contacts takes longer than the window).
        poll(br.port, user, tokens)
        emu.reset()
        poll(br.port, user, tokens)
        row["poll1_fresh"] = emu.stats()["total"]
        poll(br.port, user, tokens)
        emu.reset()
        with concurrent.futures.ThreadPoolExecutor(50) as ex:
            list(ex.map(lambda _: poll(br.port, user, tokens), range(50)))
        row["poll50_fresh"] = emu.stats()["total"]
        # After the window: 1 client, then (after another window) 50 at once.
        time.sleep(freshness + 0.5)
        emu.reset()
        poll(br.port, user, tokens)
        row["poll1_stale"] = emu.stats()["total"]
        time.sleep(freshness + 0.5)
        emu.reset()
        with concurrent.futures.ThreadPoolExecutor(50) as ex:
            list(ex.map(lambda _: poll(br.port, user, tokens), range(50)))
        row["poll50_stale"] = emu.stats()["total"]

        # One edit and one create through CardDAV (write-through).
        default = next(bk for bk in books if bk.rstrip("/").endswith("/contacts"))
        href, (etag, data) = next(iter(books[default]["cards"].items()))
        edited = data.replace("\r\n", "\n").replace("\n", "\r\n").replace("END:VCARD", "NOTE:edited by the benchmark\r\nEND:VCARD")
        emu.reset()
        status, body, _ = call(br.port, "PUT", href, edited.encode(), {"Content-Type": "text/vcard", "If-Match": etag}, user)
        assert status in (200, 201, 204), (status, body[:300])
        row["edit"] = emu.stats()["total"]
        row["edit_routes"] = route_summary(emu.stats())
        uid = str(uuid.uuid4())
        emu.reset()
        status, body, _ = call(br.port, "PUT", f"{default}{uid}.vcf", new_card(uid).encode(),
                               {"Content-Type": "text/vcard", "If-None-Match": "*"}, user)
        assert status == 201, (status, body[:300])
        row["create"] = emu.stats()["total"]
        row["create_routes"] = route_summary(emu.stats())

        # Ten Outlook-side edits in the default folder, then one client's sync-collection of it.
        token = sync_collection(br.port, user, default, tokens[default])[0]
        mb = emu.info["default_user"]
        bearer = emu.admin("POST", f"users/{mb}/token")["access_token"]
        status, data, _ = call(emu.port, "GET", "/v1.0/me/contacts?$top=10&$select=id",
                               headers={"Authorization": f"Bearer {bearer}"})
        ids = [c["id"] for c in json.loads(data)["value"]][:10]
        for i, cid in enumerate(ids):
            emu.admin("PATCH", f"users/{mb}/contacts/{cid}", {"jobTitle": f"Edited {i} in Outlook"})
        time.sleep(freshness + 0.5)
        emu.reset()
        _, changed = sync_collection(br.port, user, default, token)
        row["outlook10"] = emu.stats()["total"]
        row["outlook10_changed"] = len(changed)
        row["outlook10_routes"] = route_summary(emu.stats())
        rows.append(row)
        print("  ", json.dumps(row), flush=True)
        br.stop()
        emu.close()
        shutil.rmtree(br.dir, ignore_errors=True)

    lines = [
        "## Graph requests per scenario",
        "",
        "Requests the Graph emulator served (`/_emulator/stats` `total`; a `$batch` counts once) while one "
        "`cardbridge serve` (release build, its own process, empty state file, `freshness_secs = "
        f"{freshness}`) served CardDAV clients, for N contacts seeded over the emulator's sample folders "
        "(default, Work, Family, Work/Clients; about 36 % with a photo). The emulator pages like Graph: "
        "delta pages of at most 500 (`Prefer: odata.maxpagesize`), list pages of at most 1,000 (`$top`), "
        "`$batch` of at most 20, photos not in delta.",
        "",
        f"`bench/run.sh --only graph` (this table: sizes {', '.join(str(s) for s in sizes)})",
        "",
        "| contacts (folders, photos) | first full sync: measured / minimum | poll, fresh: 1 client / 50 clients | "
        "poll after the window: 1 client / 50 clients | one edit (PUT) | one create (PUT) | sync-collection after 10 Outlook edits |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} ({r['folders']}, {r['photos']:,}) | {r['first']:,} / {r['first_min']:,} "
            f"({(r['first'] / r['first_min'] - 1) * 100:+.0f} %) | {r['poll1_fresh']} / {r['poll50_fresh']} | "
            f"{r['poll1_stale']} / {r['poll50_stale']} | {r['edit']} | {r['create']} | {r['outlook10']} "
            f"({r['outlook10_changed']} cards reported) |")
    lines += [
        "",
        "- First full sync = discovery (principal, home set, home Depth 1), a Depth-1 PROPFIND of every book "
        "and `addressbook-multiget` of every card in chunks of 100, from a bridge with an empty state file. "
        "Minimum = one access token (1; the identity endpoint is counted too) + default folder (1) + top-level folder list (1) + one childFolders list per other folder "
        "(Graph has no recursive folder list) + per folder ⌈n/500⌉ delta pages (at least 1) + ⌈n/1000⌉ list "
        "pages (delta returns no extended properties, so the stash and UID need the list endpoint with "
        "`$expand`) + ⌈photos/20⌉ (`$batch`; photos are not in delta).",
        "- Polls are one `sync-collection` per book with the current token; \"fresh\" = inside the freshness "
        "window (measured right after an uncounted poll), \"after the window\" = the first poll after it expired (minimum: one delta round per folder, "
        "however many clients ask at once). Minimum for an edit or a create: 1; for the 10 Outlook edits: "
        "one delta round of the book + one `$batch` re-reading the 10 contacts with their extended properties = 2.",
        "",
        f"Routes of the largest run ({rows[-1]['n']:,} contacts):",
        "",
        f"- first sync: {rows[-1]['first_routes']}",
        f"- edit: {rows[-1]['edit_routes']}",
        f"- create: {rows[-1]['create_routes']}",
        f"- after 10 Outlook edits: {rows[-1]['outlook10_routes']}",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- memory and cold start


def load_all(port, users):
    """Each user lists every book (loads the mirror; every card is rendered for its ETag)."""
    n = 0
    for u in users:
        for book in discover(port, u):
            n += len(list_book(port, u, book))
    return n


def count_all(port, users):
    """Each user lists every book, as in load_all, but the client only counts the
    responses (no XML parse): for timing the server's cold start, not Python's parser."""
    n = 0
    for u in users:
        for book in discover(port, u):
            status, data, _ = call(port, "PROPFIND", book, PROPFIND_ETAGS,
                                   {"Depth": "1", "Content-Type": "application/xml"}, u)
            if status != 207:
                raise RuntimeError(f"PROPFIND {book}: {status}")
            n += data.count(b"<d:response>") - 1  # the book's own response
    return n


def fetch_all(port, users):
    """Fetch every card once with multiget, as a client does; returns the bytes served."""
    total_vcard = 0
    for u in users:
        for book in discover(port, u):
            hrefs = list_book(port, u, book)
            for i in range(0, len(hrefs), 500):
                total_vcard += sum(len(d.replace("\r\n", "\n").replace("\n", "\r\n").encode())
                                   for _, _, d in multiget(port, u, book, hrefs[i:i + 500]))
    return total_vcard


# RSS is read this long after the last request: jemalloc hands freed pages back to the
# system after about a second (dirty_decay_ms = 1000 in main.rs); the peak is VmHWM.
SETTLE_S = 3


def memory_part(binary, work, sizes, org):
    rows = []
    for label, users_n, per_user in [(f"{n:,} contacts, 1 user", 1, n) for n in sizes] + (
            [(f"{org[0]} users × {org[1]:,} contacts", org[0], org[1])] if org else []):
        print(f"== memory: {label}", flush=True)
        emu = Emulator(binary, work)
        if users_n == 1:
            emu.seed(per_user)
            users = ["alice"]
            br = Bridge(binary, emu, work, "freshness_secs = 3600\n")
            br.cli("login")
        else:
            pairs = []
            for i in range(users_n):
                upn = f"user{i:03}@{TENANT}"
                emu.admin("POST", "users", {"upn": upn})
                emu.seed(per_user, upn)
                pairs.append((f"user{i:03}", upn))
            users = [u for u, _ in pairs]
            br = Bridge(binary, emu, work, "freshness_secs = 3600\n", app_only_users=pairs)
        for u in users:
            br.add_user(u)
        br.start()
        time.sleep(1)
        idle = br.memory()
        t0 = time.time()
        loaded = load_all(br.port, users)
        load_s = time.time() - t0
        assert loaded == users_n * per_user, (loaded, users_n * per_user)
        after_load = br.memory()
        total_vcard = fetch_all(br.port, users)
        time.sleep(SETTLE_S)
        after_all = br.memory()
        br.stop()
        # The same mirror from the state file (cold start), loaded the same way: every book
        # listed, every card fetched (a listing alone no longer renders the cards).
        emu.reset()
        br.start()
        restart_idle = br.memory()
        load_all(br.port, users)
        assert fetch_all(br.port, users) == total_vcard
        time.sleep(SETTLE_S)
        from_state = br.memory()
        graph_after = emu.stats()["total"]
        br.stop()
        emu.close()
        shutil.rmtree(br.dir, ignore_errors=True)
        n = users_n * per_user
        grown = (after_all["VmRSS"] - idle["VmRSS"]) * 1024
        grown_state = (from_state["VmRSS"] - restart_idle["VmRSS"]) * 1024
        row = {"label": label, "n": n, "idle": idle["VmRSS"], "loaded": after_load["VmRSS"], "all": after_all["VmRSS"],
               "hwm": after_all["VmHWM"], "vcard": total_vcard, "per": (grown - total_vcard) / n,
               "state_rss": from_state["VmRSS"], "state_hwm": from_state["VmHWM"],
               "per_state": (grown_state - total_vcard) / n, "load_s": load_s, "graph_after_restart": graph_after}
        print("  ", json.dumps(row), flush=True)
        rows.append(row)
    mib = lambda k: f"{k / 1024:.0f} MiB"
    lines = [
        "## Memory",
        "",
        "RSS (`/proc/PID/status` VmRSS; VmHWM = peak) of `cardbridge serve` alone (release build; the Graph "
        "emulator runs in another process). \"Idle\" = ready, no request yet. \"Loaded from Graph\" = after "
        "every user listed every book (first load through Graph) and fetched every card with "
        "`addressbook-multiget` (every card rendered once and cached). \"Loaded from the state file\" = the "
        "same (every book listed, every card fetched) after a restart on the state file. Both are read 3 s after the last "
        "request, when the allocator has returned freed pages (the peak during the load is VmHWM, in brackets). "
        "Per contact = (loaded − idle − vCard bytes) / contacts, where "
        "vCard bytes = the total size of every card as served.",
        "",
        "`bench/run.sh --only memory`",
        "",
        "| mirror | idle | loaded from Graph (peak) | loaded from the state file (peak) | vCard bytes | per contact beyond the vCard bytes: from Graph / from the state file |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {mib(r['idle'])} | {mib(r['all'])} ({mib(r['hwm'])}) | {mib(r['state_rss'])} "
            f"({mib(r['state_hwm'])}) | {r['vcard'] / 2**20:.1f} MiB ({r['vcard'] / r['n']:.0f} B/card) | "
            f"{r['per']:,.0f} B / {r['per_state']:,.0f} B |")
    lines.append("")
    return "\n".join(lines)


def coldstart_part(binary, work, n, runs=3):
    print(f"== cold start, {n} contacts", flush=True)
    emu = Emulator(binary, work)
    emu.seed(n)
    user = "alice"
    br = Bridge(binary, emu, work, "freshness_secs = 3600\nfolder_tree_secs = 3600\n")
    br.cli("login")
    br.add_user(user)
    t0 = time.time()
    br.cli("sync", "--user", user)
    sync_s = time.time() - t0
    results = []
    for _ in range(runs):
        emu.reset()
        t0 = time.time()
        log = open(os.path.join(br.dir, "serve.log"), "a")
        br.proc = subprocess.Popen(pinned(1, [binary, "serve", "--config", br.config]), stdout=log,
                                   stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"})
        ready = None
        while True:
            try:
                if ready is None and call(br.port, "GET", "/readyz", timeout=5)[0] == 200:
                    ready = time.time() - t0
                cards = count_all(br.port, [user])
                break
            except (OSError, RuntimeError):
                if br.proc.poll() is not None:
                    sys.exit("serve exited")
                time.sleep(0.005)
        serving = time.time() - t0
        assert cards == n, (cards, n)
        results.append((ready, serving, emu.stats()["total"], br.memory()["VmRSS"]))
        br.stop()
    emu.close()
    shutil.rmtree(br.dir, ignore_errors=True)
    print("  ", results, flush=True)
    best = min(results, key=lambda r: r[1])
    lines = [
        "## Cold start",
        "",
        f"`cardbridge serve` (release build, its own process) started on a state file holding {n:,} contacts "
        f"(loaded by `cardbridge sync` in {sync_s:.1f} s; `freshness_secs = 3600`, so the data is fresh). "
        "Measured from process start to: `/readyz` answering 200, and a client having listed every book "
        "(Depth-1 PROPFIND with `getetag` of each book, 207, every card listed and counted without parsing the "
        "XML, so the time is the server's and the transfer's, not a Python XML parser's; the first listing loads the "
        "book's mirror from the state file: each contact's summary row with its vCard 3.0 ETag, no card "
        "rendered). Graph requests = the "
        "emulator's count over the whole run.",
        "",
        "`bench/run.sh --only coldstart`",
        "",
        "| run | /readyz | every book listed | Graph requests | RSS after |",
        "|---:|---:|---:|---:|---:|",
    ]
    for i, (ready, serving, graph, rss) in enumerate(results, 1):
        lines.append(f"| {i} | {ready * 1000:.0f} ms | {serving * 1000:.0f} ms | {graph} | {rss / 1024:.0f} MiB |")
    lines.append("")
    return "\n".join(lines), best


def replace_section(text, section):
    title = section.split("\n", 1)[0]
    start = text.find(title + "\n")
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + 1)
    return text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--only", choices=["graph", "memory", "coldstart"], action="append")
    ap.add_argument("--sizes", default="100,1000,10000,100000")
    ap.add_argument("--memory-sizes", default="10000,100000")
    ap.add_argument("--org", default="100x1000", help="users x contacts for the organisation memory row ('' = skip)")
    ap.add_argument("--freshness", type=int, default=3)
    ap.add_argument("--coldstart-contacts", type=int, default=100000)
    ap.add_argument("--write", action="store_true")
    args, _ = ap.parse_known_args()  # run.sh passes the options of every part
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    binary = os.path.abspath(args.binary)
    parts = args.only or ["graph", "memory", "coldstart"]
    sections = []
    if "graph" in parts:
        sections.append(graph_part(binary, work, [int(s) for s in args.sizes.split(",")], args.freshness))
    if "memory" in parts:
        org = tuple(int(x) for x in args.org.split("x")) if args.org else None
        sections.append(memory_part(binary, work, [int(s) for s in args.memory_sizes.split(",")], org))
    if "coldstart" in parts:
        sections.append(coldstart_part(binary, work, args.coldstart_contacts)[0])
    for s in sections:
        print()
        print(s)
    if args.write:
        text = open("BENCHMARKS.md").read()
        for s in sections:
            text = replace_section(text, s)
        open("BENCHMARKS.md", "w").write(text)


if __name__ == "__main__":
    main()
