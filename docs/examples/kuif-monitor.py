#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A kuifd client in plain Python, standard library only.

    kuif-monitor.py [--socket PATH] [--event GLOB]... [--count N]

Subscribes and prints one line per event: seq, kseq, source, event, payload.
Loss records are printed too: a client should always show what it missed.
"""
import argparse
import json
import os
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", default=os.environ.get(
        "KUIF_SOCKET", "/run/kuifd/kuifd.sock"))
    ap.add_argument("--event", action="append", default=[])
    ap.add_argument("--count", type=int, default=0)
    args = ap.parse_args()

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    f = s.makefile("rw", encoding="utf-8", newline="\n")
    hello = json.loads(f.readline())
    assert hello["type"] == "hello" and hello["version"] == 1, hello

    req = {"op": "subscribe", "filter": {"event": args.event}}
    f.write(json.dumps(req) + "\n")
    f.flush()

    seen = 0
    for line in f:
        rec = json.loads(line)
        if rec["type"] == "subscribed":
            print("subscribed", file=sys.stderr, flush=True)
            continue
        if rec["type"] == "event":
            data = rec.get("data", {})
            payload = data.get("payload", data.get("payload_hex", ""))
            print(rec["seq"], rec.get("kseq", "-"), rec["source"],
                  rec["event"], payload, flush=True)
        elif rec["type"] == "lost":
            print(f"LOST {rec['count']} ({rec['reason']})", flush=True)
        elif rec["type"] == "error":
            sys.exit(f"kuifd: {rec['code']}: {rec['message']}")
        else:
            continue
        seen += 1
        if args.count and seen >= args.count:
            break


if __name__ == "__main__":
    main()
