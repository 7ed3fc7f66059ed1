#!/usr/bin/env python3
"""CardDAV latency and throughput of cardbridge next to Radicale and nginx (issue 9).

Started by bench/run.sh, which installs the tools. Everything here is measured in one run on
this machine: cardbridge's `demo` (release build; the Graph emulator runs in the same process)
seeded with sample contacts, Radicale 3.9 serving the very same card bytes from its filesystem
layout, and nginx serving the same bytes as static files (the practical upper bound for GET).
Servers run on core 1 and oha on core 0 (reference/benchmarking.md). Only ratios measured in
the same run are compared.
"""

import argparse
import base64
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from common import free_port, pinned

USER, PASSWORD = "bench", "bench-password"
NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:carddav"}





def request(port, method, path, body=None, headers=None, auth=True, timeout=600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def wait_http(port, path, deadline_s, auth=False):
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            status, _ = request(port, "GET", path, auth=auth, timeout=5)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"server on port {port} did not come up")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


PROPFIND_ETAGS = b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'


def list_book(port, book):
    status, body = request(port, "PROPFIND", book, PROPFIND_ETAGS, {"Depth": "1", "Content-Type": "application/xml"})
    assert status == 207, status
    hrefs = []
    for resp in ET.fromstring(body).findall("d:response", NS):
        href = resp.find("d:href", NS).text
        if not href.endswith("/"):
            hrefs.append(href)
    return hrefs


def multiget_body(hrefs):
    inner = "".join(f"<d:href>{h}</d:href>" for h in hrefs)
    return (
        '<?xml version="1.0"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">'
        f"<d:prop><d:getetag/><c:address-data/></d:prop>{inner}</c:addressbook-multiget>"
    ).encode()


def export_cards(port, book, hrefs):
    """The card bytes cardbridge serves, by resource name."""
    cards = {}
    for i in range(0, len(hrefs), 500):
        status, body = request(port, "REPORT", book, multiget_body(hrefs[i : i + 500]), {"Depth": "1", "Content-Type": "application/xml"})
        assert status == 207, status
        for resp in ET.fromstring(body).findall("d:response", NS):
            href = resp.find("d:href", NS).text
            data = resp.find(".//c:address-data", NS)
            if data is not None and data.text:
                cards[href.rsplit("/", 1)[1]] = data.text.replace("\r\n", "\n").replace("\n", "\r\n")
    return cards


def sync_token(port, book):
    body = b'<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>'
    status, data = request(port, "PROPFIND", book, body, {"Depth": "0", "Content-Type": "application/xml"})
    assert status == 207, status
    return ET.fromstring(data).find(".//d:sync-token", NS).text


def sync_body(token):
    return (
        '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>'
        f"{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
    ).encode()


def cpu_ticks(pid):
    """utime + stime of a process, its threads and its child processes (nginx's worker), in clock ticks."""
    total = 0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                total += sum(cpu_ticks(int(c)) for c in f.read().split())
    except OSError:
        pass
    return total


class Oha:
    def __init__(self, binary, seconds, tmp):
        self.binary, self.seconds, self.tmp = binary, seconds, tmp

    def run(self, url, conc, method="GET", headers=(), body=None, auth=True, server=None):
        argv = [self.binary, "--no-tui", "--worker-threads", "1", "--output-format", "json", "-z", f"{self.seconds}s", "-c", str(conc), "-m", method]
        if auth:
            argv += ["-a", f"{USER}:{PASSWORD}"]
        for h in headers:
            argv += ["-H", h]
        if body is not None:
            path = os.path.join(self.tmp, "body")
            with open(path, "wb") as f:
                f.write(body)
            argv += ["-D", path]
        time.sleep(2)  # let the CPUs settle between tests
        before = cpu_ticks(server.pid) if server else 0
        out = subprocess.run(pinned(0, argv + [url]), capture_output=True, text=True, check=True).stdout
        used_s = (cpu_ticks(server.pid) - before) / os.sysconf("SC_CLK_TCK") if server else 0
        j = json.loads(out)
        s = j["summary"]
        lat = j.get("latencyPercentiles", {})
        codes = j.get("statusCodeDistribution", {})
        ok = sum(v for k, v in codes.items() if k.startswith("2") or k == "304")
        bad = sum(codes.values()) - ok
        done = sum(codes.values())
        return {
            # Server CPU time per request: robust against other processes on the machine,
            # which steal cycles from the pinned cores (req/s is not).
            "cpu_us": used_s * 1e6 / done if server and done else None,
            "rps": s.get("requestsPerSec") or 0.0,
            "p50": (lat.get("p50") or 0.0) * 1000,
            "p99": (lat.get("p99") or 0.0) * 1000,
            # Requests still in flight when the -z duration ends are aborted by oha itself;
            # they are not server errors.
            "errors": bad
            + sum(v for k, v in j.get("errorDistribution", {}).items() if "deadline" not in k),
        }


def put_load(port, book, seconds, conc, server=None):
    """PUT load with a unique card per request (oha cannot vary the body): each of `conc`
    threads keeps one keep-alive connection and creates new contacts (`If-None-Match: *`)
    for `seconds`; every PUT is a real create (in cardbridge: written through to Graph)."""
    import threading
    import uuid

    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    lat, errors, lock = [], [0], threading.Lock()
    end = time.time() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], 0
        while time.time() < end:
            uid = str(uuid.uuid4())
            body = (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Load {uid[:8]}\r\nN:{uid[:8]};Load;;;\r\n"
                    f"EMAIL;TYPE=work:{uid[:8]}@load.example\r\nTEL;TYPE=cell:+41 79 555 {uid[:2]} {uid[2:4]}\r\nEND:VCARD\r\n").encode()
            t0 = time.perf_counter()
            try:
                conn.request("PUT", f"{book}{uid}.vcf", body, {"Authorization": auth, "Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"})
                r = conn.getresponse()
                r.read()
                ok = r.status in (200, 201, 204)
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            mine.append(time.perf_counter() - t0)
            bad += not ok
        with lock:
            lat.extend(mine)
            errors[0] += bad

    time.sleep(2)
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    before = cpu_ticks(server.pid) if server else 0
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    used_s = (cpu_ticks(server.pid) - before) / os.sysconf("SC_CLK_TCK") if server else 0
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0.0
    return {"rps": len(lat) / wall, "p50": pick(0.50), "p99": pick(0.99), "errors": errors[0],
            "cpu_us": used_s * 1e6 / len(lat) if server and lat else None}


def start_cardbridge(binary, contacts, work):
    port, emu_port = free_port(), free_port()
    log = open(os.path.join(work, "cardbridge.log"), "w")
    argv = [binary, "demo", "--listen", f"127.0.0.1:{port}", "--emulator-listen", f"127.0.0.1:{emu_port}",
            "--contacts", str(contacts), "--user", USER, "--password", PASSWORD, "--user-requests-per-sec", "0"]
    proc = subprocess.Popen(pinned(1, argv), stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"})
    end = time.time() + 900
    while time.time() < end:
        try:
            if request(port, "GET", "/readyz", auth=False, timeout=5)[0] == 200:
                return proc, port, emu_port
        except OSError:
            pass
        if proc.poll() is not None:
            sys.exit("cardbridge demo exited; see bench/.work/cardbridge.log")
        time.sleep(0.5)
    sys.exit("cardbridge demo never became ready")


def start_radicale(work, cards):
    root = os.path.join(work, "radicale")
    shutil.rmtree(root, ignore_errors=True)
    book = os.path.join(root, "collection-root", USER, "contacts")
    os.makedirs(book)
    with open(os.path.join(book, ".Radicale.props"), "w") as f:
        json.dump({"tag": "VADDRESSBOOK", "D:displayname": "Contacts"}, f)
    for name, data in cards.items():
        with open(os.path.join(book, name), "w", newline="") as f:
            f.write(data)
    with open(os.path.join(root, "users"), "w") as f:
        f.write(f"{USER}:{PASSWORD}\n")
    port = free_port()
    with open(os.path.join(root, "config"), "w") as f:
        f.write(f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {os.path.join(root, 'users')}
htpasswd_encryption = plain
[storage]
filesystem_folder = {root}
[logging]
level = warning
""")
    exe = os.path.join(work, "radicale-venv", "bin", "radicale")
    log = open(os.path.join(work, "radicale.log"), "w")
    proc = subprocess.Popen(pinned(1, [exe, "--config", os.path.join(root, "config")]), stdout=log, stderr=subprocess.STDOUT)
    wait_http(port, "/", 60)
    return proc, port


def start_nginx(work, cards):
    root = os.path.join(work, "nginx")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "html", "contacts"))
    os.makedirs(os.path.join(root, "logs"))
    for name, data in cards.items():
        with open(os.path.join(root, "html", "contacts", name), "w", newline="") as f:
            f.write(data)
    port = free_port()
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
error_log {root}/logs/error.log;
pid {root}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type text/vcard;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{ listen 127.0.0.1:{port}; root {root}/html; }}
}}
""")
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(pinned(1, [exe, "-p", root, "-c", conf, "-g", "daemon off;"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(port, "/", 30)
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def fmt(r):
    if r is None:
        return "—"
    err = f", {r['errors']} errors" if r["errors"] else ""
    cpu = f", {r['cpu_us']:,.1f} µs CPU/req" if r.get("cpu_us") else ""
    return f"{r['rps']:,.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms{cpu}{err}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--contacts", type=int, default=16667, help="seeded contacts; about 60 %% land in the default book")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    args, _ = ap.parse_known_args()  # run.sh passes the options of every part
    work = os.path.abspath(args.work)
    oha_bin = os.path.join(work, "tools", "bin", "oha")
    tmp = tempfile.mkdtemp(prefix="cardbridge-bench-")
    oha = Oha(oha_bin, args.seconds, tmp)
    book = f"/dav/addressbooks/{USER}/contacts/"
    rbook = f"/{USER}/contacts/"
    results = []  # (test, cardbridge, radicale, nginx)

    load_before = os.getloadavg()
    print("== cardbridge demo", flush=True)
    t0 = time.time()
    cb, cb_port, _ = start_cardbridge(os.path.abspath(args.binary), args.contacts, work)
    ready_s = time.time() - t0
    hrefs = list_book(cb_port, book)
    cards = export_cards(cb_port, book, hrefs)
    n = len(cards)
    avg = sum(len(c) for c in cards.values()) / max(n, 1)
    cb_rss = rss_kib(cb.pid)
    print(f"   {n} cards in the default book, {avg:.0f} bytes each on average; ready in {ready_s:.1f} s", flush=True)

    print("== Radicale (loading and warming its caches)", flush=True)
    rad, rad_port = start_radicale(work, cards)
    t0 = time.time()
    rad_hrefs = list_book(rad_port, rbook)
    rad_token = sync_token(rad_port, rbook)
    request(rad_port, "REPORT", rbook, sync_body(rad_token), {"Content-Type": "application/xml"})
    print(f"   warm in {time.time() - t0:.1f} s ({len(rad_hrefs)} cards)", flush=True)
    print("== nginx", flush=True)
    ngx, ngx_port = start_nginx(work, cards)

    one = hrefs[len(hrefs) // 2]
    name = one.rsplit("/", 1)[1]
    cb_url = lambda p: f"http://127.0.0.1:{cb_port}{p}"
    rad_url = lambda p: f"http://127.0.0.1:{rad_port}{p}"
    hundred = hrefs[:100]
    cb_token = sync_token(cb_port, book)
    rad_token = sync_token(rad_port, rbook)
    xml_h = ["Content-Type: application/xml; charset=utf-8"]

    for c in (1, 16):
        print(f"== GET one card, c={c}", flush=True)
        results.append((f"GET one card, c={c}",
                        oha.run(cb_url(one), c, server=cb),
                        oha.run(rad_url(rbook + name), c, server=rad),
                        oha.run(f"http://127.0.0.1:{ngx_port}/contacts/{name}", c, auth=False, server=ngx)))
    print("== PROPFIND Depth 1", flush=True)
    results.append((f"PROPFIND Depth 1 of the {n}-card book (getetag), c=1",
                    oha.run(cb_url(book), 1, "PROPFIND", xml_h + ["Depth: 1"], PROPFIND_ETAGS, server=cb),
                    oha.run(rad_url(rbook), 1, "PROPFIND", xml_h + ["Depth: 1"], PROPFIND_ETAGS, server=rad), None))
    for c in (1, 16):
        print(f"== multiget 100, c={c}", flush=True)
        results.append((f"addressbook-multiget of 100 hrefs, c={c}",
                        oha.run(cb_url(book), c, "REPORT", xml_h + ["Depth: 1"], multiget_body(hundred), server=cb),
                        oha.run(rad_url(rbook), c, "REPORT", xml_h + ["Depth: 1"], multiget_body([rbook + h.rsplit('/', 1)[1] for h in hundred]), server=rad),
                        None))
    print("== sync-collection, no changes", flush=True)
    results.append(("sync-collection with no changes, c=1",
                    oha.run(cb_url(book), 1, "REPORT", xml_h, sync_body(cb_token), server=cb),
                    oha.run(rad_url(rbook), 1, "REPORT", xml_h, sync_body(rad_token), server=rad), None))
    for c in (1, 8):
        print(f"== PUT (create, unique card per request), c={c}", flush=True)
        results.append((f"PUT a new card (unique per request, Python driver), c={c}",
                        put_load(cb_port, book, args.seconds, c, cb),
                        put_load(rad_port, rbook, args.seconds, c, rad), None))
    load_after = os.getloadavg()
    rad_rss = rss_kib(rad.pid)
    cb_rss_after = rss_kib(cb.pid)
    for p in (cb, rad, ngx):
        stop(p)
    shutil.rmtree(tmp, ignore_errors=True)

    oha_version = subprocess.run([oha_bin, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "## CardDAV latency and throughput (cardbridge vs Radicale vs nginx)",
        "",
        f"One run of `bench/run.sh --contacts {args.contacts} --seconds {args.seconds}` on this machine: "
        f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
        f"{platform.platform()}; {oha_version}; Radicale 3.9.0; nginx-light. Servers pinned to core 1, oha to core 0 "
        f"(`--no-tui -z {args.seconds}s`, keep-alive). Same {n} cards ({avg:.0f} bytes on average) in every server: "
        "cardbridge's default book as served, copied into Radicale's filesystem layout (warmed before timing) and "
        "into nginx's root. cardbridge is `demo` (release build, Graph emulator in the same process, freshness "
        "window 5 s, so one Graph delta round per 5 s runs during the tests).",
        "",
        "| test | cardbridge | Radicale | nginx (static) | cardbridge / Radicale: req/s (CPU per request) | cardbridge / nginx: req/s (CPU per request) |",
        "|---|---|---|---|---:|---:|",
    ]

    def ratio(a, b):
        if not (a and b and b["rps"]):
            return "—"
        cpu = f" ({b['cpu_us'] / a['cpu_us']:.1f}×)" if a.get("cpu_us") and b.get("cpu_us") else ""
        return f"{a['rps'] / b['rps']:.2f}×{cpu}"

    for test, a, b, c in results:
        lines.append(f"| {test} | {fmt(a)} | {fmt(b)} | {fmt(c)} | {ratio(a, b)} | {ratio(a, c)} |")
    lines += [
        "",
        f"Load average (1 min) before / after the run: {load_before[0]:.1f} / {load_after[0]:.1f} (other "
        "processes on this shared machine steal cycles from the pinned cores, so req/s is noisy; \"µs CPU/req\" "
        "is the server's own CPU time (utime + stime from /proc, threads and child processes) divided by the "
        "requests it answered, which other load disturbs far less; the ratio in parentheses compares that).",
        "",
        "PUT rows: a small Python driver (threads, one keep-alive connection each; oha cannot vary the body) "
        "creates a new card per request (`If-None-Match: *`), so each cardbridge PUT is a Graph create in the "
        "emulator (write-through, then the mirror); the driver's own cost (about 0.1 ms per request) is "
        "included. Radicale's built-in server closes every connection (HTTP/1.0), which is part of what its "
        "numbers measure (reference/benchmarking.md).",
    ]
    lines += [
        "",
        f"Memory (VmRSS): cardbridge demo {cb_rss / 1024:.0f} MiB after loading, {cb_rss_after / 1024:.0f} MiB after the "
        f"tests — this includes the in-process Graph emulator holding all {args.contacts} seeded contacts and their photos; "
        f"Radicale {rad_rss / 1024:.0f} MiB after the tests. The demo became ready (emulator seeded, "
        f"initial Graph sync of every folder done) {ready_s:.1f} s after start.",
        "",
    ]
    section = "\n".join(lines)
    print()
    print(section)
    if args.write:
        path = "BENCHMARKS.md"
        text = open(path).read()
        start = text.find(lines[0])
        if start >= 0:
            end = text.find("\n## ", start + 1)
            text = text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
        open(path, "w").write(text)


if __name__ == "__main__":
    main()
