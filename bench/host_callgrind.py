#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Instructions per event on kuifd's own path, under callgrind.

Runs kuifd under `valgrind --tool=callgrind` twice, with the same start and
stop, once with N events and once with none; the difference divided by N is
the cost of one event: reading the request from a real socket, decoding it,
deduplication, numbering, history, JSON encoding, and fan-out to the given
number of subscribers. Instruction counts do not depend on machine load.

usage: host_callgrind.py KUIFD [N] [SUBSCRIBERS...]   (defaults 2000, 1 16)
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

KUIFD = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
FANOUT = [int(x) for x in sys.argv[3:]] or [1, 16]


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    for _ in range(600):
        try:
            s.connect(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.05)
    f = s.makefile("rwb")
    assert json.loads(f.readline())["type"] == "hello"
    return s, f


def run(n, subscribers):
    d = tempfile.mkdtemp(prefix="kuif-bench-")
    sock = os.path.join(d, "s.sock")
    out = os.path.join(d, "callgrind.out")
    with open(os.path.join(d, "c.conf"), "w") as f:
        f.write("[sources]\nring = no\nsignal = no\ninotify = no\n"
                "[journal]\nevents =\n")
    p = subprocess.Popen(["valgrind", "--tool=callgrind",
                          f"--callgrind-out-file={out}", KUIFD, "-c",
                          os.path.join(d, "c.conf"), "-s", sock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    subs = []
    for _ in range(subscribers):
        s, f = connect(sock)
        f.write(b'{"op":"subscribe"}\n')
        f.flush()
        assert json.loads(f.readline())["type"] == "subscribed"
        subs.append((s, f))
    s, f = connect(sock)
    batch = b"".join(
        json.dumps({"op": "upcall", "kseq": k, "time_ns": k * 1000,
                    "event": "bench.event", "payload": "x" * 64}).encode()
        + b"\n" for k in range(1, n + 1))
    f.write(batch)
    f.flush()
    for _ in range(n):
        f.readline()
    for _, sf in subs:
        for _ in range(n):
            sf.readline()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    with open(out) as fh:
        for line in fh:
            m = re.match(r"summary: (\d+)", line) or \
                re.match(r"totals: (\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError("no callgrind total: " + err.decode()[-500:])


def main():
    rows = []
    for subs in FANOUT:
        base = run(0, subs)
        full = run(N, subs)
        rows.append((subs, (full - base) / N))
    print(f"| subscribers | instructions per event (N={N}) |")
    print("|---:|---:|")
    for subs, ipe in rows:
        print(f"| {subs} | {ipe:,.0f} |")
    if len(rows) > 1:
        print(f"\nratio {rows[-1][0]} vs {rows[0][0]} subscribers: "
              f"{rows[-1][1] / rows[0][1]:.2f}x")


if __name__ == "__main__":
    main()
