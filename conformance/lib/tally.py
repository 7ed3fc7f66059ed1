"""Count one suite's results for run.sh, applying the expected-failure list.

  tally.py junit FILE.xml
      print one `[PASS] name` / `[FAIL] name: why` / `[SKIP] name: why` line per test case of a
      JUnit XML report (pytest's), in the format every suite prints.
  tally.py count SUITE EXIT_CODE LOG XFAIL_FILE SERVER
      read the `[PASS]` / `[FAIL]` / `[SKIP]` lines of LOG, print `SUITE PASSED FAILED` on stdout and
      the failing checks (or the log's tail, when the suite crashed) on stderr.

XFAIL_FILE has one expected failure a line: `SERVER SUITE TEST NAME | reason` (the name may hold spaces) where SERVER is
cardbridge, radicale, external or `*`. An expected failure that fails counts neither way; one
that passes counts as a failure (XPASS), so that a fixed bug forces the list to shrink.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

LINE = re.compile(r"^\[(PASS|FAIL|SKIP)\] (.+?)(?:: (.*))?$")


def junit(path: str) -> int:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"[FAIL] pytest-report: no JUnit report ({e})")
        return 0
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            msg = (failure.get("message") or "").splitlines()
            print(f"[FAIL] {name}: {msg[0] if msg else failure.tag}")
        elif skipped is not None:
            print(f"[SKIP] {name}: {skipped.get('message', '')}")
        else:
            print(f"[PASS] {name}")
    return 0


def load_xfail(path: str, suite: str, server: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return out
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, reason = line.partition("|")
        parts = head.split(maxsplit=2)
        if len(parts) != 3:
            continue
        srv, sui, test = parts[0], parts[1], parts[2].strip()
        if sui == suite and srv in ("*", server):
            out[test] = reason.strip()
    return out


def count(suite: str, rc: str, log: str, xfail_path: str, server: str) -> int:
    text = open(log, encoding="utf-8", errors="replace").read()
    xfail = load_xfail(xfail_path, suite, server)
    passed = failed = skipped = xfailed = 0
    problems: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        kind, name, why = m.group(1), m.group(2), m.group(3) or ""
        seen.add(name)
        if kind == "SKIP":
            skipped += 1
        elif kind == "PASS":
            if name in xfail:
                failed += 1
                problems.append(f"XPASS {name}: passes now; remove it from xfail.txt")
            else:
                passed += 1
        elif name in xfail:
            xfailed += 1
        else:
            failed += 1
            problems.append(f"FAIL  {name}: {why}")
    crashed = not seen or (rc != "0" and failed == 0 and xfailed == 0)
    if crashed:
        failed += 1
        problems.append(f"CRASH {suite} exited with status {rc}; last lines of its log:")
        problems.extend("      " + t for t in text.splitlines()[-25:])
    for name in sorted(set(xfail) - seen):
        problems.append(f"note  {name} is in xfail.txt but did not run")
    extra = []
    if xfailed:
        extra.append(f"{xfailed} expected failures")
    if skipped:
        extra.append(f"{skipped} skipped")
    sys.stderr.write(
        f"  {suite}: {passed} passed, {failed} failed"
        + (f" ({', '.join(extra)})" if extra else "")
        + "\n"
    )
    for p in problems:
        sys.stderr.write(f"    {p}\n")
    print(f"{suite} {passed} {failed}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "junit":
        sys.exit(junit(sys.argv[2]))
    sys.exit(count(*sys.argv[2:7]))
