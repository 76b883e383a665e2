#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kuifd's CPU per event at a steady 200 events/s against saturated, on
the host's real CPU.

In the VM, the steady figure is mostly the emulated wakeup: even the direct
ring reader spends a hundred times its saturated cost per event there. This
runs the host build of kuifd with --test-feed, which hands ring records to
the same decoder as the real ring source, and one subscriber that reads
every line, and measures kuifd's own CPU time (schedstat) and wakeups
(voluntary context switches):

  steady     N events at RATE/s, one record per datagram: a wakeup each
  saturated  M events in datagrams of 256 records, as fast as kuifd
             answers

Each datagram costs kuifd a recvfrom and a sendto (the feed's reply) that
the real ring path does not have, so the steady figure is, if anything,
high. Then bench-floor (built beside kuifd, in bench/), which makes the
same system calls per datagram and does nothing else, is driven at the
same steady rate: the floor under any reader woken once per event here.
kuifd and the floor take turns, ROUNDS rounds of N/ROUNDS events each:
on a shared host what one wakeup costs moves by a factor of eight from
one minute to the next, so their ratio is taken round by round (the
median of the rounds'), never from runs minutes apart.
Prints "key value" lines.

usage: host_steady.py KUIFD [RATE] [N] [M] [ROUNDS]
       (defaults 200 2000 50000 8)
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

KUIFD = sys.argv[1]
RATE = int(sys.argv[2]) if len(sys.argv) > 2 else 200
N = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
M = int(sys.argv[4]) if len(sys.argv) > 4 else 50000
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 8
if RATE < 1 or N < ROUNDS or M < 1 or ROUNDS < 1:
    sys.exit("host_steady.py: RATE, M and ROUNDS must be positive, "
             "N at least ROUNDS")
PAYLOAD = b"x" * 64
HEADER = struct.Struct("=IHHQQ32s")     # struct kuif_ring_record


def record(kseq):
    size = HEADER.size + len(PAYLOAD)
    pad = -size % 8
    return HEADER.pack(size + pad, 1, len(PAYLOAD), kseq,
                       time.time_ns(), b"bench") + PAYLOAD + b"\0" * pad


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def wakeups(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise RuntimeError("no voluntary_ctxt_switches")


class Subscriber(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_UNIX)
        for _ in range(600):
            try:
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        self.s.sendall(b'{"op":"subscribe","filter":{"event":["bench"]}}\n')
        self.lines = 0
        self.lost = False

    def run(self):
        while True:
            b = self.s.recv(1 << 20)
            if not b:
                return
            self.lines += b.count(b"\n")
            if b'"type":"lost"' in b:
                self.lost = True

    def wait(self, lines, timeout=60):
        end = time.monotonic() + timeout
        while self.lines < lines and time.monotonic() < end:
            time.sleep(0.01)
        return self.lines >= lines


def main():
    d = tempfile.mkdtemp(prefix="kuif-steady-")
    sock, feed = os.path.join(d, "s.sock"), os.path.join(d, "feed")
    conf = os.path.join(d, "c.conf")
    with open(conf, "w") as f:
        f.write("[sources]\nring = no\nsignal = no\ninotify = no\n"
                "[journal]\nevents =\n")
    p = subprocess.Popen([KUIFD, "-c", conf, "-s", sock, "--test-feed",
                          feed], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    floor = None
    try:
        sub = Subscriber(sock)
        sub.start()
        # hello, subscribed
        if not sub.wait(2):
            raise RuntimeError("kuifd did not answer the subscriber")
        c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        c.bind(os.path.join(d, "c"))
        for _ in range(600):
            if os.path.exists(feed):
                break
            time.sleep(0.05)
        kseq = 0

        def send(records):
            c.sendto(b"r" + records, feed)
            reply = c.recv(256)
            if not reply.startswith(b"ok"):
                raise RuntimeError(reply.decode())

        # Warm up: the history and buffers at their working size.
        for _ in range(20):
            send(b"".join(record(kseq + i + 1) for i in range(256)))
            kseq += 256
        if not sub.wait(2 + kseq):
            raise RuntimeError("the warm-up did not reach the subscriber")
        time.sleep(0.5)

        floor = Floor(d, c)
        steady_cpu = steady_wake = floor_cpu = 0
        ratios = []
        for r in range(ROUNDS):
            n = N // ROUNDS + (1 if r < N % ROUNDS else 0)
            base = sub.lines
            c0, w0 = cpu_ns(p.pid), wakeups(p.pid)
            kseq = paced(lambda k: send(record(k)), kseq, n)
            if not sub.wait(base + n):
                raise RuntimeError("steady: events did not reach the "
                                   "subscriber")
            time.sleep(0.2)
            k_cpu = cpu_ns(p.pid) - c0
            steady_cpu += k_cpu
            steady_wake += wakeups(p.pid) - w0
            if floor.ok:
                f_cpu = floor.steady(n)
                floor_cpu += f_cpu
                ratios.append(k_cpu / max(f_cpu, 1))

        base = sub.lines
        c0, w0 = cpu_ns(p.pid), wakeups(p.pid)
        t0 = time.monotonic()
        for i in range(0, M, 256):
            k = min(256, M - i)
            send(b"".join(record(kseq + j + 1) for j in range(k)))
            kseq += k
        if not sub.wait(base + M):
            raise RuntimeError("saturated: events did not reach the "
                               "subscriber")
        span = time.monotonic() - t0
        sat_cpu = cpu_ns(p.pid) - c0
        sat_wake = wakeups(p.pid) - w0
        if sub.lost:
            raise RuntimeError("the subscriber was told of a loss")

        print(f"steady.rate {RATE}")
        print(f"steady.events {N}")
        print(f"steady.cpu_ns_per_event {steady_cpu // N}")
        print(f"steady.wakeups_per_event {steady_wake / N:.3f}")
        print(f"saturated.events {M}")
        print(f"saturated.rate {M / span:.0f}")
        print(f"saturated.cpu_ns_per_event {sat_cpu // M}")
        print(f"saturated.wakeups_per_event {sat_wake / M:.4f}")
        print(f"steady_vs_saturated {steady_cpu / N / (sat_cpu / M):.2f}")
        if ratios:
            ratios.sort()
            print(f"floor.cpu_ns_per_event {floor_cpu // N}")
            print(f"steady_vs_floor {ratios[(len(ratios) - 1) // 2]:.2f}")
            print(f"steady_vs_floor.rounds {ROUNDS}")
            print(f"steady_vs_floor.min {ratios[0]:.2f}")
            print(f"steady_vs_floor.max {ratios[-1]:.2f}")
    finally:
        if floor is not None:
            floor.stop()
        p.terminate()
        p.wait(timeout=30)
        shutil.rmtree(d, ignore_errors=True)


def paced(send, kseq, n):
    """n datagrams at RATE a second; returns the last kseq sent."""
    t = time.monotonic()
    for _ in range(n):
        t += 1.0 / RATE
        delay = t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        kseq += 1
        send(kseq)
    return kseq


class Floor:
    """bench-floor beside kuifd, driven at the steady rate on demand."""

    def __init__(self, d, c):
        self.c, self.f = c, None
        prog = os.path.join(os.path.dirname(os.path.abspath(KUIFD)),
                            "bench", "bench-floor")
        self.ok = os.access(prog, os.X_OK)
        if not self.ok:
            print(f"host_steady: no {prog}: floor not measured",
                  file=sys.stderr)
            return
        self.path = os.path.join(d, "floor")
        self.f = subprocess.Popen([prog, self.path])
        for _ in range(600):
            if os.path.exists(self.path):
                break
            time.sleep(0.05)
        paced(self.send, 0, 100)

    def send(self, _):
        self.c.sendto(b"r" + record(1), self.path)
        if self.c.recv(256) != b"ok 1":
            raise RuntimeError("bench-floor did not answer")

    def steady(self, n):
        """bench-floor's CPU time for n datagrams at the steady rate."""
        c0 = cpu_ns(self.f.pid)
        paced(self.send, 0, n)
        time.sleep(0.2)
        return cpu_ns(self.f.pid) - c0

    def stop(self):
        if self.f is not None:
            self.f.kill()
            self.f.wait(timeout=30)
            self.f = None


if __name__ == "__main__":
    main()
