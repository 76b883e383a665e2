# SPDX-License-Identifier: GPL-2.0
"""kuif: a kuifd client in plain Python (standard library only).

    import kuif

    with kuif.Client(events=["netdev.*"]) as c:
        for rec in c.records():
            if rec["type"] == "lost":
                print("missed", rec["count"] or "an unknown number of",
                      "records:", rec["reason"])
            else:
                print(rec["seq"], rec["event"], rec["data"])

A Client subscribes on kuifd's socket (docs/protocol.md) and yields its
records: events, and loss records that say what was missed. When the
connection is lost it reconnects and resumes after the last seq it gave
out ("since"), so nothing the server's history still holds is missed or
repeated; it tries for reconnect_limit seconds (None: for ever), waiting
0.1 s, then twice as long each time up to 2 s, then raises ConnectionLost.

If the server it reconnects to is a new kuifd without the old history
(its hello seq is behind the last seq seen), the client says so with a
loss record of unknown size, {"type":"lost","count":0,
"reason":"server_restarted","time":...}, and goes on from the new server's
records. A "history_reset" loss record from the server (a since the
server never published) is passed on, and the seqs that follow start
again from 1. Every record, those made here included, has a "time".

One Client is for one thread. Requests other than subscribe (ping, stats,
emit) use a connection of their own: kuif.request({"op": "ping"}).
"""
import errno
import json
import os
import socket
import time

__all__ = ["Client", "KuifError", "ConnectionLost", "request",
           "DEFAULT_SOCKET", "RECONNECT_LIMIT"]

DEFAULT_SOCKET = "/run/kuifd/kuifd.sock"
RECONNECT_LIMIT = 10.0     # seconds, as libkuif and kuifctl
MAX_LINE = 64 * 1024 + 4096


class KuifError(Exception):
    """kuifd answered with an error record, or said something unexpected."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectionLost(OSError):
    """The connection is gone and reconnection is off or gave up."""


def socket_path(path=None):
    return path or os.environ.get("KUIF_SOCKET") or DEFAULT_SOCKET


def now_rfc3339():
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        ".%09dZ" % (ns % 10**9)


class _Conn:
    """One connection: line framing with a bounded buffer."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except BaseException:
            self.sock.close()
            raise
        self.buf = b""

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self, timeout):
        """The next record; None when timeout (seconds) passed first.
        Raises EOFError when the server closed the connection."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise KuifError("line_too_long", "a record over 64 KiB")
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, BrokenPipeError) as e:
                raise EOFError(str(e)) from e
            if not data:
                raise EOFError("kuifd closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        self.sock.close()


def request(req, path=None, timeout=5.0):
    """Sends one request on a connection of its own; returns the reply.
    Raises KuifError for an error reply."""
    c = _Conn(socket_path(path), timeout)
    try:
        hello = c.recv(timeout)
        if hello is None or hello.get("type") != "hello":
            raise KuifError("bad_greeting", repr(hello))
        c.send(req)
        rep = c.recv(timeout)
        if rep is None:
            raise TimeoutError("no reply from kuifd")
        if rep.get("type") == "error":
            raise KuifError(rep.get("code"), rep.get("message"))
        return rep
    finally:
        c.close()


class Client:
    """A subscription that survives kuifd restarts.

    events, sources: lists of globs (None: all). since: the seq to resume
    after (None: live only). reconnect: whether to reconnect at all;
    reconnect_limit: seconds to keep trying (None: for ever).
    """

    def __init__(self, path=None, events=None, sources=None, since=None,
                 reconnect=True, reconnect_limit=RECONNECT_LIMIT,
                 timeout=5.0):
        self.path = socket_path(path)
        self.filter = {}
        if events:
            self.filter["event"] = list(events)
        if sources:
            self.filter["source"] = list(sources)
        self.last_seq = since       # the newest seq given out, or None
        self.reconnect = reconnect
        self.reconnect_limit = reconnect_limit
        self.timeout = timeout      # for connecting and each reply
        self.hello = None
        self.reconnects = 0
        self._conn = None
        self._pending = []          # records to give out before reading

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def fileno(self):
        """The socket, for select(); changes when the client reconnects."""
        return self._conn.sock.fileno() if self._conn else -1

    def connect(self):
        """Connects and subscribes (resuming after last_seq)."""
        conn = _Conn(self.path, self.timeout)
        try:
            hello = conn.recv(self.timeout)
            if hello is None or hello.get("type") != "hello" or \
                    hello.get("version") != 1:
                raise KuifError("bad_greeting", repr(hello))
            req = {"op": "subscribe", "filter": self.filter}
            # On a reconnection, a server behind the last seq seen is a
            # new one. The first time, the server judges a since itself
            # (history_reset, passed on by next()).
            restarted = self.hello is not None and \
                self.last_seq is not None and hello["seq"] < self.last_seq
            if self.last_seq is not None and not restarted:
                req["since"] = self.last_seq
            conn.send(req)
            while True:
                rep = conn.recv(self.timeout)
                if rep is None:
                    raise TimeoutError("kuifd did not confirm the "
                                       "subscription")
                if rep["type"] == "error":
                    raise KuifError(rep.get("code"), rep.get("message"))
                if rep["type"] == "subscribed":
                    break
        except BaseException:
            conn.close()
            raise
        self.close()
        self._conn, self.hello = conn, hello
        if restarted:
            # A new kuifd, without the history: what it published before
            # we came back is unknown, and its seqs start again.
            self.last_seq = hello["seq"]
            self._pending.append({"type": "lost", "time": now_rfc3339(),
                                  "count": 0, "reason": "server_restarted"})

    def _reconnect(self, why):
        self.close()
        if not self.reconnect:
            raise ConnectionLost(errno.ECONNRESET, f"kuifd: {why}")
        start, wait = time.monotonic(), 0.1
        while True:
            try:
                self.connect()
                self.reconnects += 1
                return
            except (OSError, EOFError, KuifError, ValueError) as e:
                why = e
            left = None if self.reconnect_limit is None else \
                start + self.reconnect_limit - time.monotonic()
            if left is not None and left <= 0:
                raise ConnectionLost(
                    errno.ECONNRESET, f"gave up reconnecting after "
                    f"{self.reconnect_limit} s: {why}")
            time.sleep(wait if left is None else min(wait, left))
            wait = min(wait * 2, 2.0)

    def next(self, timeout=None):
        """The next event or loss record, None when timeout seconds passed
        without one. Reconnects as needed (the timeout bounds the wait for
        a record, not reconnection, which reconnect_limit bounds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._conn is None and not self._pending:
            self.connect()
        while True:
            if self._pending:
                return self._pending.pop(0)
            left = None if deadline is None else \
                max(0.0, deadline - time.monotonic())
            try:
                rec = self._conn.recv(left)
            except (EOFError, OSError) as e:
                self._reconnect(e)
                continue
            if rec is None:
                return None
            t = rec.get("type")
            if t == "lost" and rec.get("reason") == "history_reset":
                self.last_seq = 0       # the server numbers from 1 again
            elif t == "error":
                raise KuifError(rec.get("code"), rec.get("message"))
            if t not in ("event", "lost"):
                continue                # unknown records are ignored
            if "seq" in rec:
                self.last_seq = rec["seq"]
            return rec

    def records(self, timeout=None):
        """Yields records until timeout seconds pass without one (None:
        for ever)."""
        while True:
            rec = self.next(timeout)
            if rec is None:
                return
            yield rec
