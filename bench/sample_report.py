#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Names the addresses bench-sample found: a flat profile by function.

Each address is named by the mapped file's symbols (nm: the detached
ones by build id when installed, as libc6-dbg has libc's, else the file's
own, else its dynamic ones), the file offset
turned into an address with the file's LOAD segments (readelf -l). An
address just after a `syscall` instruction is time in the kernel, shown
as "[kernel] via FUNCTION"; one in a PLT stub, "(PLT)".

A second table charges the time in shared libraries (libc's memcpy,
say) to their callers: bench-sample gives the word at the stack pointer
of each sample, which in a function that has pushed nothing is the
return address. It is taken for one only when the bytes before it are a
call instruction; otherwise the caller is "(unknown)".

usage: sample_report.py SAMPLES [LIMIT]   (default: the first 25 lines)
"""
import bisect
import os
import subprocess
import sys


def load_segments(path):
    """[(offset, vaddr, filesz)] of the file's LOAD segments."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True,
                         text=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            segs.append((int(f[1], 16), int(f[2], 16), int(f[4], 16)))
    return segs


def debug_file(path):
    """The file's detached symbols by build id (libc6-dbg has libc's)."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            bid = line.split()[-1]
            return f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
    return None


def plt_ranges(path):
    """[(vaddr, size)] of the file's PLT sections."""
    out = subprocess.run(["readelf", "-SW", path], capture_output=True,
                         text=True).stdout
    ranges = []
    for line in out.replace("[ ", "[").splitlines():
        f = line.split()
        if len(f) > 5 and f[1].startswith(".plt"):
            ranges.append((int(f[3], 16), int(f[5], 16)))
    return ranges


def symbols(path):
    """Sorted [(address, name)] of the file's functions."""
    dbg = debug_file(path)
    tries = [([], path), (["-D"], path)]
    if dbg is not None and os.path.exists(dbg):
        tries.insert(0, ([], dbg))
    for extra, where in tries:
        out = subprocess.run(["nm", "-n", "--defined-only"] + extra + [where],
                             capture_output=True, text=True).stdout
        syms = []
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "tTiWw":
                syms.append((int(f[0], 16), f[2]))
        if syms:
            return syms
    return []


class Image:
    def __init__(self, path):
        self.path = path
        self.segs = load_segments(path)
        self.syms = symbols(path)
        self.plt = plt_ranges(path)
        self.addrs = [a for a, _ in self.syms]
        try:
            with open(path, "rb") as f:
                self.data = f.read()
        except OSError:
            self.data = b""

    def name(self, off):
        vaddr = None
        for o, v, size in self.segs:
            if o <= off < o + size:
                vaddr = off - o + v
        if vaddr is None or not self.syms:
            return f"{off:#x}"
        if any(a <= vaddr < a + n for a, n in self.plt):
            return "(PLT)"
        i = bisect.bisect_right(self.addrs, vaddr) - 1
        return self.syms[i][1] if i >= 0 else f"{off:#x}"

    def after_syscall(self, off):
        return off >= 2 and self.data[off - 2:off] == b"\x0f\x05"

    def after_call(self, off):
        """Whether off follows a call: rel32, indirect through memory
        (rip-relative), or through a register."""
        d = self.data
        return ((off >= 5 and d[off - 5] == 0xe8) or
                (off >= 6 and d[off - 6:off - 4] == b"\xff\x15") or
                (off >= 2 and d[off - 2] == 0xff and
                 0xd0 <= d[off - 1] <= 0xd7))

IMAGES = {}


def image(path):
    """The Image of path, read once."""
    if path not in IMAGES:
        IMAGES[path] = Image(path)
    return IMAGES[path]


def where(off, path):
    """(object, function) of a file offset in path."""
    if path == "-":
        return ("-", "(anonymous memory)")
    if path.startswith("["):
        return (path, "")	# [vdso]: the kernel's code, mapped in
    img = image(path)
    fn = img.name(off)
    if img.after_syscall(off):
        return ("[kernel]", f"via {fn}")
    return (path.rsplit("/", 1)[-1], fn)


def caller(off, path):
    """(object, function) of a return address, or None."""
    if path == "-" or path.startswith("["):
        return None
    if not image(path).after_call(off):
        return None
    return where(off, path)


def main():
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    counts, callers = {}, {}
    asleep = running = 0
    with open(sys.argv[1]) as f:
        for line in f:
            k = line.split()
            if k[0] == "asleep":
                asleep = int(k[1])
            elif k[0] == "running":
                running = int(k[1])
            elif k[0] == "from":
                n, key = int(k[1]), where(int(k[2], 16), k[3])
                if ".so" not in key[0]:
                    continue
                by = caller(int(k[4], 16), k[5])
                ck = (key, by or ("", "(unknown)"))
                callers[ck] = callers.get(ck, 0) + n
            else:
                key = where(int(k[2], 16), k[3])
                counts[key] = counts.get(key, 0) + int(k[0])
    total = asleep + running
    print(f"samples: {total}, running {running} "
          f"({100 * running / max(total, 1):.0f}%), asleep {asleep}")
    print("| share of running | samples | object | function |")
    print("|---:|---:|---|---|")
    for (dso, fn), n in sorted(counts.items(), key=lambda x: -x[1])[:limit]:
        print(f"| {100 * n / max(running, 1):.1f}% | {n} | {dso} | {fn} |")
    if not callers:
        return
    print()
    print("Time in shared libraries, by caller:")
    print()
    print("| share of running | samples | function | called from |")
    print("|---:|---:|---|---|")
    rows = sorted(callers.items(), key=lambda x: -x[1])[:limit]
    for ((dso, fn), (cdso, cfn)), n in rows:
        by = f"{cdso}: {cfn}" if cdso else cfn
        print(f"| {100 * n / max(running, 1):.1f}% | {n} | {dso}: {fn} "
              f"| {by} |")


if __name__ == "__main__":
    main()
