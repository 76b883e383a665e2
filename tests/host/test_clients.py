#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host tests of the clients (kuifctl, libkuif and its examples) against a
real kuifd built with the sanitizers, events handed over as the kernel's
upcall helper does. Prints one "PASS name" or "FAIL name: why" per test.

usage: test_clients.py PATH-TO-ASAN-KUIFD [BUILD-DIR]
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
import traceback

KUIFD = sys.argv[1] if len(sys.argv) > 1 else "build/asan/kuifd"
BUILD = sys.argv[2] if len(sys.argv) > 2 else "build"
KUIFCTL = os.path.join(os.path.dirname(KUIFD), "kuifctl")   # ASan build
CLIENT_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:exitcode=99",
                  UBSAN_OPTIONS="halt_on_error=1:exitcode=98")
RESULTS = []
RUNNING = []


class Kuifd:
    """One kuifd with its own socket (as in test_kuifd.py)."""

    def __init__(self, conf="", directory=None):
        self.dir = directory or tempfile.mkdtemp(prefix="kuifd-clients-")
        self.sock = os.path.join(self.dir, "kuifd.sock")
        self.conf = os.path.join(self.dir, "kuifd.conf")
        self.log = os.path.join(self.dir, "kuifd.log")
        with open(self.conf, "w") as f:
            f.write(conf)
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=99"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=98"
        self.proc = subprocess.Popen(
            [KUIFD, "-c", self.conf, "-s", self.sock],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"), env=env)
        RUNNING.append(self.proc)
        deadline = time.time() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("kuifd did not start: " + self.logtext())
            time.sleep(0.02)

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        log = self.logtext()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert bad not in log, "sanitizer report:\n" + log[-3000:]
        assert self.proc.returncode == 0, f"kuifd exit {self.proc.returncode}"

    def clients(self):
        """How many connections kuifd counts, this one's included."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(self.sock)
        f = s.makefile("rwb")
        json.loads(f.readline())
        f.write(b'{"op":"stats"}\n')
        f.flush()
        n = json.loads(f.readline())["clients"]
        s.close()
        return n


def inject(k, kseq, event, payload=None, payload_hex=None):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(k.sock)
    f = s.makefile("rwb")
    assert json.loads(f.readline())["type"] == "hello"
    req = {"op": "upcall", "kseq": kseq, "time_ns": kseq * 1000,
           "event": event}
    if payload_hex is not None:
        req["payload_hex"] = payload_hex
    else:
        req["payload"] = "p" if payload is None else payload
    f.write(json.dumps(req).encode() + b"\n")
    f.flush()
    r = json.loads(f.readline())
    assert r == {"type": "accepted", "kseq": kseq}, r
    s.close()


def kuifctl(*args, sock=None, timeout=20):
    argv = [KUIFCTL] + (["--socket", sock] if sock else []) + list(args)
    r = subprocess.run(argv, capture_output=True, timeout=timeout,
                       env=CLIENT_ENV)
    err = r.stderr.decode(errors="replace")
    assert r.returncode not in (98, 99) and "Sanitizer" not in err, err[-2000:]
    r.out = r.stdout.decode(errors="replace")
    r.err = err
    return r


def start(argv, env=CLIENT_ENV):
    """A subscriber process; returns once it said "subscribed"."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env)
    RUNNING.append(p)
    line = p.stderr.readline().decode()
    assert "subscribed" in line, (line, p.stderr.read().decode()[-2000:])
    return p


def monitor(k, *args):
    return start([KUIFCTL, "--socket", k.sock, "monitor"] + list(args))


def finish(p, timeout=20):
    out, err = p.communicate(timeout=timeout)
    assert "Sanitizer" not in err.decode(errors="replace"), err[-2000:]
    return p.returncode, out, err.decode(errors="replace")


def restart(k, want_clients):
    """Stops kuifd and starts a new one on the same socket (history gone),
    then waits until want_clients besides the asker have reconnected."""
    k.stop()
    k2 = Kuifd(directory=k.dir)
    deadline = time.time() + 15
    while time.time() < deadline and k2.clients() < want_clients + 1:
        time.sleep(0.1)
    assert k2.clients() >= want_clients + 1, "client did not reconnect"
    return k2


def test(fn):
    name = fn.__name__
    try:
        fn()
        RESULTS.append("PASS")
        print(f"PASS {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - a test failure of any kind
        why = f"{type(e).__name__}: {e}".replace("\n", " ")[:400]
        RESULTS.append("FAIL")
        print(f"FAIL {name}: {why}", flush=True)
        traceback.print_exc(file=sys.stderr)
    finally:
        while RUNNING:
            p = RUNNING.pop()
            if p.poll() is None:
                p.kill()
                p.wait()
    return fn


# ---- libkuif ----------------------------------------------------------

@test
def test_libkuif_exports_only_its_api_versioned():
    lib = os.path.join(BUILD, f"libkuif.so.0")
    out = subprocess.run(["nm", "-D", "--defined-only", lib],
                         capture_output=True, text=True, check=True).stdout
    syms = {line.split()[2] for line in out.splitlines()
            if line.split()[1] in "TDBRWV"}
    with open("clients/lib/kuif-client.h") as f:
        api = set(re.findall(r"\b(kuif_[a-z_]+)\s*\(", f.read()))
    want = {f"{s}@@LIBKUIF_0" for s in api}
    assert syms == want, f"exported {sorted(syms ^ want)} differ"


def run_example(name):
    """The example survives a kuifd restart on its one registered fd."""
    k = Kuifd()
    p = start([os.path.join(BUILD, "docs-examples", name), k.sock, "3",
               "ex.*"])
    inject(k, 1, "ex.one", "a")
    inject(k, 2, "other", "x")
    time.sleep(0.3)
    k2 = restart(k, 1)
    inject(k2, 1, "ex.two", "b")
    rc, out, err = finish(p)
    assert rc == 0, (rc, err)
    assert out.decode().splitlines() == [
        "1 ex.one a", "lost 0 server_restarted", "1 ex.two b"], out
    k2.stop()


@test
def test_example_poll():
    run_example("libkuif-poll")


@test
def test_example_libevent():
    run_example("libkuif-libevent")


@test
def test_example_sdevent():
    run_example("libkuif-sdevent")


# ---- the command line -------------------------------------------------

@test
def test_help_and_version_go_to_stdout_exit_0():
    # An unreachable socket: any of these talking to kuifd would exit 3.
    for args in (["-h"], ["--help"], ["help"], ["help", "monitor"],
                 ["monitor", "--help"], ["emit", "--help"],
                 ["emit", "x.y", "--help"], ["stats", "-h"],
                 ["ping", "--help"]):
        r = kuifctl(*args, sock="/nonexistent/kuifd.sock")
        assert r.returncode == 0, (args, r.returncode, r.err)
        assert r.out.startswith("usage: kuifctl") and r.err == "", (args, r)
    r = kuifctl("emit", "--help")
    assert "EVENT" in r.out and "monitor" not in r.out, r.out
    for args in (["-V"], ["--version"], ["monitor", "--version"]):
        r = kuifctl(*args)
        assert r.returncode == 0 and re.match(r"kuifctl \d+\.\d+", r.out), r


@test
def test_usage_errors_name_what_is_wrong():
    cases = [
        (["monitor", "--count", "0"], "--count: '0' is not a positive"),
        (["monitor", "--count", "x"], "--count: 'x'"),
        (["monitor", "--timeout", "-1"], "--timeout: '-1'"),
        (["monitor", "--since", "-3"], "--since: '-3'"),
        (["monitor", "--count"], "option '--count' needs a value"),
        (["-x", "ping"], "unknown option '-x'"),
        (["ping", "--bogus"], "unknown option '--bogus'"),
        (["stats", "--count", "3"], "'--count' does not apply to 'stats'"),
        (["-o", "xml", "monitor"], "unknown mode 'xml'"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        ([], "no command given"),
        (["emit"], "'emit' needs an EVENT name"),
        (["ping", "extra"], "unexpected argument 'extra'"),
        (["help", "nope"], "unknown command 'nope'"),
    ]
    for args, want in cases:
        r = kuifctl(*args, sock="/nonexistent/kuifd.sock")
        assert r.returncode == 2, (args, r.returncode, r.err)
        assert want in r.err, (args, r.err)
        assert r.out == "", (args, r.out)
        # The error, a one-line usage and a hint: not the whole manual.
        assert len(r.err.splitlines()) <= 4, (args, r.err)


@test
def test_options_after_the_command():
    k = Kuifd()
    r = kuifctl("ping", "--socket", k.sock)
    assert r.returncode == 0, r.err
    inject(k, 1, "a.b", "x")
    r = kuifctl("monitor", "--since", "0", "--count", "1", "--socket",
                k.sock, "-o", "json")
    assert r.returncode == 0, r.err
    assert json.loads(r.out)["event"] == "a.b", r.out
    # "--" ends the options: a payload may start with "-".
    r = kuifctl("emit", "--socket", k.sock, "--", "user.x", "-p")
    assert r.returncode == 1 and "emit_failed" in r.err, r.err
    k.stop()


# ---- output -----------------------------------------------------------

@test
def test_short_output_escapes_controls_marks_hex_no_blank_lines():
    k = Kuifd()
    inject(k, 1, "t.esc", "\x1b[31mred\x07\u009b2J")
    inject(k, 2, "t.nl", "line\n")
    inject(k, 3, "t.hex", payload_hex="00ff10")
    r = kuifctl("monitor", "--since", "0", "--count", "3", "--timeout", "5",
                sock=k.sock)
    assert r.returncode == 0, r.err
    raw = r.stdout
    for bad in (b"\x1b", b"\x07", b"\xc2\x9b"):
        assert bad not in raw, (bad, raw)
    lines = r.out.split("\n")
    assert lines[-1] == "" and len(lines) == 4, lines     # no blank line
    assert lines[0].endswith(r"\e[31mred\x07\u009b2J"), lines[0]
    assert lines[1].endswith(" line"), lines[1]
    assert lines[2].endswith(" hex:00ff10"), lines[2]
    k.stop()


@test
def test_output_json_json_seq_and_cat():
    k = Kuifd()
    inject(k, 1, "o.one", "first\n")
    inject(k, 2, "o.two", "second")
    common = ["monitor", "--since", "0", "--count", "2", "--timeout", "5"]
    for args in (["-o", "json"], ["--json"], ["--output=json"]):
        r = kuifctl(*common, *args, sock=k.sock)
        recs = [json.loads(x) for x in r.out.splitlines()]
        assert [x["event"] for x in recs] == ["o.one", "o.two"], (args, r)
    r = kuifctl(*common, "-o", "json-seq", sock=k.sock)
    assert r.out.startswith("\x1e"), r.out
    parts = r.out.split("\x1e")
    assert parts[0] == "" and len(parts) == 3, parts
    assert all(p.endswith("\n") for p in parts[1:]), parts
    assert [json.loads(p)["event"] for p in parts[1:]] == ["o.one", "o.two"]
    r = kuifctl(*common, "-o", "cat", sock=k.sock)
    assert r.out == "first\nsecond\n", repr(r.out)
    k.stop()


@test
def test_ping_prints_round_trip_time():
    k = Kuifd()
    r = kuifctl("ping", sock=k.sock)
    assert r.returncode == 0, r.err
    m = re.match(r"pong from kuifd \S+ at (\S+): time=(\d+\.\d{3}) ms$",
                 r.out.strip())
    assert m and m.group(1) == k.sock and float(m.group(2)) < 5000, r.out
    r = kuifctl("ping", "-o", "json", sock=k.sock)
    j = json.loads(r.out)
    assert j["type"] == "pong" and j["rtt_ms"] >= 0, j
    k.stop()


@test
def test_stats_leaves_out_its_own_connection_counters():
    k = Kuifd()
    r = kuifctl("stats", "-o", "json", sock=k.sock)
    j = json.loads(r.out)
    assert "client" not in j and "bus" in j, j
    r = kuifctl("stats", sock=k.sock)
    assert r.returncode == 0 and "bus.published" in r.out, r.out
    assert not re.search(r"^client\.", r.out, re.M), r.out
    k.stop()


@test
def test_lost_of_unknown_size_says_unknown():
    k = Kuifd()
    p = monitor(k, "--count", "3", "--timeout", "30")
    inject(k, 1, "u.before")
    time.sleep(0.3)
    k2 = restart(k, 1)
    inject(k2, 1, "u.after")
    rc, out, err = finish(p, 30)
    assert rc == 0, (rc, err)
    lines = out.decode().splitlines()
    assert lines[1] == \
        "*** LOST an unknown number of records: server_restarted ***", lines
    assert "u.after" in lines[2], lines
    k2.stop()


@test
def test_monitor_timeout_bounds_reconnection():
    k = Kuifd()
    p = monitor(k, "--count", "5", "--timeout", "2")
    t = time.time()
    k.stop()        # and it never comes back
    rc, out, err = finish(p, 30)
    took = time.time() - t
    assert rc == 4, (rc, err)
    assert took < 4, f"monitor --timeout 2 took {took:.1f} s"


@test
def test_monitor_reconnect_limit():
    k = Kuifd()
    p = monitor(k, "--reconnect-limit", "0.5")
    t = time.time()
    k.stop()
    rc, out, err = finish(p, 30)
    took = time.time() - t
    assert rc == 3 and "gave up reconnecting" in err, (rc, err)
    assert took < 3, f"gave up after {took:.1f} s"


# ---- completion -------------------------------------------------------

BASH_COMPLETE = r"""
source /usr/share/bash-completion/bash_completion
source clients/completion/kuifctl
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}; COMPREPLY=()
_kuifctl
printf '%s\n' "${COMPREPLY[@]}"
"""

# What an interactive zsh offers for WORDS<TAB>, with compadd wrapped.
ZSH_COMPLETE = r"""
zmodload zsh/zpty || exit 3
out=$1; shift
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($PWD/clients/completion \$fpath); autoload -U compinit; compinit -u -D; echo R\$((1+1))"
zpty -r z line '*R2*'
zpty -w z "compadd () { builtin compadd -O __h \"\$@\"; print -rl -- \$__h >> $out; builtin compadd \"\$@\" }; bindkey '^I' complete-word; echo R\$((2+1))"
zpty -r z line '*R3*'
zpty -n -w z "$*"$'\t'
for i in {1..50}; do
    [[ -s $out ]] && break
    zpty -r -t z chunk; sleep 0.1
done
sleep 0.3
zpty -d z
"""


def complete(shell, *words):
    if shell == "bash":
        r = subprocess.run(["bash", "-c", BASH_COMPLETE, "bash"] + list(words),
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        return set(r.stdout.split())
    d = tempfile.mkdtemp(prefix="zsh-complete-")
    out = os.path.join(d, "out")
    r = subprocess.run(["zsh", "-f", "-c", ZSH_COMPLETE, "zsh", out,
                        " ".join(words)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    try:
        with open(out) as f:
            return set(f.read().split())
    except FileNotFoundError:
        return set()


@test
def test_bash_completion():
    assert {"monitor", "stats", "status", "ping", "emit", "help"} <= \
        complete("bash", "kuifctl", "")
    assert complete("bash", "kuifctl", "monitor", "--ou") == {"--output"}
    assert complete("bash", "kuifctl", "monitor", "-o", "") == \
        {"short", "json", "json-seq", "cat"}
    assert complete("bash", "kuifctl", "stats", "-o", "") == \
        {"short", "json", "json-seq"}
    assert complete("bash", "kuifctl", "actions", "-o", "") == \
        {"short", "json", "json-seq"}
    assert "actions" in complete("bash", "kuifctl", "")
    assert "--reconnect-limit" in complete("bash", "kuifctl", "monitor", "--r")


@test
def test_zsh_completion():
    assert {"monitor", "stats", "status", "ping", "emit", "help"} <= \
        complete("zsh", "kuifctl", "")
    assert complete("zsh", "kuifctl", "monitor", "--ou") == {"--output"}, \
        complete("zsh", "kuifctl", "monitor", "--ou")
    assert complete("zsh", "kuifctl", "monitor", "-o", "") >= \
        {"short", "json", "json-seq", "cat"}
    assert "cat" not in complete("zsh", "kuifctl", "stats", "-o", "")

failed = RESULTS.count("FAIL")
print(f"client tests: {len(RESULTS) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
