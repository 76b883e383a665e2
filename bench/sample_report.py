#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Names the addresses bench-sample found: a flat profile by function.

Each address is named by the mapped file's symbols (nm: the detached
ones by build id when installed, as libc6-dbg has libc's, else the file's
own, else its dynamic ones), the file offset
turned into an address with the file's LOAD segments (readelf -l). An
address just after a `syscall` instruction is time in the kernel, shown
as "[kernel] via FUNCTION".

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
        i = bisect.bisect_right(self.addrs, vaddr) - 1
        return self.syms[i][1] if i >= 0 else f"{off:#x}"

    def after_syscall(self, off):
        return off >= 2 and self.data[off - 2:off] == b"\x0f\x05"


def main():
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    images, counts = {}, {}
    asleep = running = 0
    with open(sys.argv[1]) as f:
        for line in f:
            k = line.split()
            if k[0] == "asleep":
                asleep = int(k[1])
                continue
            if k[0] == "running":
                running = int(k[1])
                continue
            n, off, path = int(k[0]), int(k[2], 16), k[3]
            if path == "-":
                key = ("-", "(anonymous memory)")
            else:
                if path not in images:
                    images[path] = Image(path)
                img = images[path]
                fn = img.name(off)
                dso = path.rsplit("/", 1)[-1]
                if img.after_syscall(off):
                    key = ("[kernel]", f"via {fn}")
                else:
                    key = (dso, fn)
            counts[key] = counts.get(key, 0) + n
    total = asleep + running
    print(f"samples: {total}, running {running} "
          f"({100 * running / max(total, 1):.0f}%), asleep {asleep}")
    print("| share of running | samples | object | function |")
    print("|---:|---:|---|---|")
    for (dso, fn), n in sorted(counts.items(), key=lambda x: -x[1])[:limit]:
        print(f"| {100 * n / max(running, 1):.1f}% | {n} | {dso} | {fn} |")


if __name__ == "__main__":
    main()
