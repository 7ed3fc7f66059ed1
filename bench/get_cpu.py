#!/usr/bin/env python3
"""GET CPU per request of several cardbridge builds, side by side (issue 9, allocator choice).

    python3 bench/get_cpu.py --work bench/.work [--rounds 2] [--seconds 8] BINARY...

Each round starts every binary's `demo` (16,667 contacts) in turn, fetches every card once,
then runs oha on one card at c=1 and c=16 and prints req/s, latency, the server's CPU time
per request (bench.py's measurement) and the RSS. Rounds alternate the binaries so that the
machine's changing load falls on all of them.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402
import scale as S  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    oha = B.Oha(os.path.join(work, "tools", "bin", "oha"), args.seconds, work)
    S.PASSWORD = B.PASSWORD
    for _ in range(args.rounds):
        for binary in args.binaries:
            proc, port, _ = B.start_cardbridge(os.path.abspath(binary), 16667, work)
            try:
                book = sorted(S.discover(port, B.USER))[0]
                hrefs = S.list_book(port, B.USER, book)
                S.fetch_all(port, [B.USER])
                url = f"http://127.0.0.1:{port}{hrefs[len(hrefs) // 2]}"
                for c in (1, 16):
                    print(binary, f"c={c}", B.fmt(oha.run(url, c, server=proc)), flush=True)
                print(binary, "RSS", S.proc_status(proc.pid), flush=True)
            finally:
                B.stop(proc)


if __name__ == "__main__":
    main()
