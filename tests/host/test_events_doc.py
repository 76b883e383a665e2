#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The event catalogue covers every event name the code produces.

Scans kmod/ and daemon/ for event names: every dotted string literal
("chardev.write", "sysctl.%s"; file names such as "kuif.h" and D-Bus
names such as "org.freedesktop.systemd1" aside) and the
name of every kuif_emit*() call made with a literal ("bench"). Each must
be in docs/events.md (a row of a table, in backquotes) and in the man page
docs/man/kuif-events.7; a name with %s must be matched by one there. Also
checks the reverse: no name in the catalogue that the code does not make,
so that a removed event leaves the catalogue too.

Prints one "PASS name" or "FAIL name: why" line per check.

usage: test_events_doc.py [TOP]
"""
import fnmatch
import glob
import os
import re
import sys

TOP = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RESULTS = []

DOTTED = re.compile(r'"([a-z][a-z0-9_-]*\.[a-z0-9._%-]+)"')
EMIT = re.compile(r'\bkuif_emit(?:_on)?\s*\(\s*(?:[a-z_]+\s*,\s*)?"([^"]+)"')
NOT_EVENTS = (".h", ".c", ".ko", ".sock", ".conf", ".lock", ".service")
NOT_EVENT_PREFIXES = ("org.",)  # D-Bus names (daemon/actions.c)


def code_names():
    names = {}
    files = sorted(glob.glob(os.path.join(TOP, "kmod", "*.[ch]")) +
                   glob.glob(os.path.join(TOP, "daemon", "*.[ch]")))
    assert files, "no sources under " + TOP
    for path in files:
        text = open(path, encoding="utf-8").read()
        for rx in (DOTTED, EMIT):
            for m in rx.finditer(text):
                name = m.group(1)
                if name.endswith(NOT_EVENTS) or \
                        name.startswith(NOT_EVENT_PREFIXES):
                    continue
                names.setdefault(name, os.path.relpath(path, TOP))
    return names


def doc_names():
    names = set()
    with open(os.path.join(TOP, "docs", "events.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\| `([a-z][a-z0-9._-]*)` \|", line)
            if m:
                names.add(m.group(1))
    return names


def man_names():
    """The tags of the .TP items in the sections that list events."""
    names, prev, listing = set(), "", False
    with open(os.path.join(TOP, "docs", "man", "kuif-events.7"),
              encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(".SH"):
                listing = "EVENTS" in line
            m = re.match(r"^\.B ([a-z][a-z0-9._-]*)$", line)
            if listing and m and prev == ".TP":
                names.add(m.group(1))
            prev = line
    return names


def check(name, fn):
    try:
        fn()
        RESULTS.append(True)
        print("PASS " + name)
    except AssertionError as e:
        RESULTS.append(False)
        print(f"FAIL {name}: {e}")


def covered(name, documented):
    if "%" in name:
        pattern = re.sub(r"%[a-z]+", "*", name)
        return any(fnmatch.fnmatchcase(d, pattern) for d in documented)
    return name in documented


def test_scanner_finds_known_names():
    names = code_names()
    # The scanner itself must work, or every other check passes vacuously.
    for want in ("chardev.write", "netdev.up", "bench", "file.modified",
                 "kernel.signal", "sysctl.%s"):
        assert want in names, f"scanner did not find {want}: {sorted(names)}"


def test_every_code_name_in_events_md():
    doc = doc_names()
    missing = [f"{n} ({where})" for n, where in sorted(code_names().items())
               if not covered(n, doc)]
    assert not missing, "not in docs/events.md: " + ", ".join(missing)


def test_every_code_name_in_man_page():
    man = man_names()
    missing = [f"{n} ({where})" for n, where in sorted(code_names().items())
               if not covered(n, man)]
    assert not missing, "not in kuif-events(7): " + ", ".join(missing)


def test_catalogue_names_exist_in_code():
    code = code_names()
    stale = [d for d in sorted(doc_names() | man_names())
             if d not in code and not any(
                 "%" in n and fnmatch.fnmatchcase(
                     d, re.sub(r"%[a-z]+", "*", n)) for n in code)]
    assert not stale, "documented but never made: " + ", ".join(stale)


def test_man_page_and_markdown_agree():
    doc, man = doc_names(), man_names()
    assert doc == man, f"events.md only: {sorted(doc - man)}, " \
        f"kuif-events.7 only: {sorted(man - doc)}"


for t in (test_scanner_finds_known_names, test_every_code_name_in_events_md,
          test_every_code_name_in_man_page,
          test_catalogue_names_exist_in_code,
          test_man_page_and_markdown_agree):
    check(t.__name__, t)
print(f"events doc tests: {RESULTS.count(True)} passed, "
      f"{RESULTS.count(False)} failed", file=sys.stderr)
sys.exit(0 if all(RESULTS) else 1)
