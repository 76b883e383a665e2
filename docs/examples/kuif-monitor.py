#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A kuifd client in plain Python, with the kuif module (standard library
only; installed with kuif, or found in the source tree).

    kuif-monitor.py [--socket PATH] [--event GLOB]... [--since SEQ]
                    [--count N] [--reconnect-limit SECONDS]

Subscribes and prints one line per event: seq, kseq, source, event,
payload. Loss records are printed too: a client should always show what it
missed. When kuifd restarts, it reconnects and resumes after the last seq.
"""
import argparse
import os
import sys

try:
    import kuif
except ImportError:     # run from the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "..", "clients", "python"))
    import kuif


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", default=None,
                    help="default: $KUIF_SOCKET or " + kuif.DEFAULT_SOCKET)
    ap.add_argument("--event", action="append", default=[])
    ap.add_argument("--since", type=int, default=None)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--reconnect-limit", type=float,
                    default=kuif.RECONNECT_LIMIT)
    args = ap.parse_args()

    seen = 0
    try:
        with kuif.Client(args.socket, events=args.event, since=args.since,
                         reconnect_limit=args.reconnect_limit) as c:
            print("subscribed", file=sys.stderr, flush=True)
            for rec in c.records():
                if rec["type"] == "event":
                    data = rec["data"]
                    if "path" in data:
                        payload = data["path"] + "=" + data.get(
                            "value", data.get("value_hex", ""))
                    else:
                        payload = data.get("payload",
                                           data.get("payload_hex", ""))
                    print(rec["seq"], rec.get("kseq", "-"), rec["source"],
                          rec["event"], payload, flush=True)
                else:
                    print(f"LOST {rec['count'] or 'unknown'} "
                          f"({rec['reason']})", flush=True)
                seen += 1
                if args.count and seen >= args.count:
                    break
    except (kuif.KuifError, OSError) as e:
        sys.exit(f"kuif-monitor: {e}")


if __name__ == "__main__":
    main()
