#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render the VM benchmark's raw figures as a markdown table and plots.

usage: render.py RAW_DIR OUT_DIR [--callgrind FILE] [--steady FILE]

RAW_DIR holds what bench/vm/bench.sh wrote in the VM (results.txt,
lat-PATH.txt); OUT_DIR receives results.md, results.txt (a copy of the raw
figures), throughput.png, latency.png and fanout.png. The markdown also goes
to stdout. Ratios compare paths measured in the same boot; targets are
reported as met or missed, never as a failure (benchmarks are not tests).
Exits 1 only when the raw figures are missing or malformed.
"""
import os
import shutil
import subprocess
import sys

PATHS = ["ring_raw", "ring_relay", "ring_kuifd", "nl_raw", "nl_kuifd"]
LABEL = {"ring_raw": "ring, direct reader",
         "ring_relay": "ring via a bare relay",
         "ring_kuifd": "ring via kuifd",
         "nl_raw": "netlink, direct libnl reader",
         "nl_kuifd": "netlink via kuifd"}


def load(raw):
    r = {}
    with open(os.path.join(raw, "results.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            r[k] = v.strip('"')
    if "error" in r:
        raise SystemExit(f"render: the VM bench failed: {r['error']}")
    if r.get("done") != "1":
        raise SystemExit("render: the VM bench did not finish")
    return r


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        raise SystemExit(f"render: {k} missing or not a number")


def pct(sorted_v, p):
    if not sorted_v:
        return float("nan")
    i = min(len(sorted_v) - 1, max(0, int(round(p / 100 * len(sorted_v))) - 1))
    return sorted_v[i]


def ratio(a, b):
    return a / b if b else float("nan")


def fmt_rate(x):
    return f"{x:,.0f}"


def us(ns):
    return f"{ns / 1000:,.0f}"


def per_path(r, key, fmt):
    """Each path's figures under key ("tp.{}.rates": numbers separated by
    spaces), formatted: "ring_raw 1, 2; ring_kuifd 3, 4; ..."."""
    return "; ".join(f"{p} " + ", ".join(
        fmt(float(x)) for x in r.get(key.format(p), "").split())
        for p in PATHS)


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def main():
    args = sys.argv[1:]
    callgrind = steady_host = None
    if "--callgrind" in args:
        i = args.index("--callgrind")
        callgrind = args[i + 1]
        del args[i:i + 2]
    if "--steady" in args:
        i = args.index("--steady")
        steady_host = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        raise SystemExit(__doc__)
    raw, out = args
    os.makedirs(out, exist_ok=True)
    r = load(raw)
    # A run from before the relay existed has the other four.
    if "tp.ring_relay.rate" not in r:
        PATHS.remove("ring_relay")

    lat = {}
    for p in PATHS:
        f = os.path.join(raw, f"lat-{p}.txt")
        with open(f) as fh:
            lat[p] = sorted(int(x) for x in fh if x.strip())
        if not lat[p]:
            raise SystemExit(f"render: no latency samples in {f}")

    tp = {p: num(r, f"tp.{p}.rate") for p in PATHS}
    zl = {p: num(r, f"loss.{p}.rate") for p in PATHS}
    fan = sorted(int(k.split(".")[1]) for k in r
                 if k.startswith("fan.") and k.endswith(".rate"))
    p50 = {p: pct(lat[p], 50) for p in PATHS}
    p99 = {p: pct(lat[p], 99) for p in PATHS}
    p999 = {p: pct(lat[p], 99.9) for p in PATHS}
    hwm = num(r, "mem.hwm_kib")

    md = []
    md.append(f"# kuif benchmark results\n")
    md.append(f"Kernel {r['meta.kernel']} under QEMU TCG, {r['meta.cpus']} "
              f"vCPUs; payload {r['meta.size']} bytes; ring "
              f"{r['meta.ring_pages']} pages; scale {r['meta.scale']}; "
              f"zero-loss steps of {r['meta.loss_seconds']} s; latency at "
              f"{r['meta.lat_rate']} events/s"
              + (f", in {r['meta.lat_rounds']} rounds, the paths taking "
                 f"turns" if 'meta.lat_rounds' in r else "")
              + ". Absolute figures under "
              f"emulation mean little; the ratios compare paths measured in "
              f"the same boot.\n")
    md.append("## Throughput, zero-loss rate and latency\n")
    md.append("| path | throughput (events/s) | lost in throughput run | "
              "zero-loss rate (events/s) | latency p50 (µs) | p99 (µs) | "
              "p99.9 (µs) | samples |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in PATHS:
        md.append(f"| {LABEL[p]} | {fmt_rate(tp[p])} | "
                  f"{int(num(r, f'tp.{p}.lost')):,} of "
                  f"{int(num(r, f'tp.{p}.sent')):,} | {fmt_rate(zl[p])} | "
                  f"{us(p50[p])} | {us(p99[p])} | {us(p999[p])} | "
                  f"{len(lat[p]):,} |")
    md.append("")
    rounds = ""
    if "meta.tp_rounds" in r:
        n = int(r["meta.tp_rounds"])
        rounds = (f" Each path's figures are those of its median run of "
                  f"{n}" + (" (the slower of the middle two)" if n % 2 == 0
                            else "") + ", the paths taking turns (runs: "
                  + per_path(r, "tp.{}.rates", fmt_rate) + ").")
    if all(f"lat.{p}.round_p99s" in r for p in PATHS):
        md.append("p99 of each latency round on its own (µs), in the order "
                  "they ran: " + per_path(r, "lat.{}.round_p99s", us) + ".\n")
    md.append("Throughput: the ring paths run at their reader's pace (the "
              "driver waits for room in the ring, so the kernel drops "
              "nothing); the netlink paths as fast as BENCH emits." + rounds +
              " Zero-loss "
              "rate: the highest steady rate, as achieved by the driver, that "
              "lost no event, the paths' searches taking turns, a step each "
              "(bisection steps: "
              + "; ".join(f"{p} {r.get(f'loss.{p}.steps', '')}" for p in PATHS)
              + ").\n")

    if all(f"tp.{p}.driver_wait_ns_per_event" in r for p in PATHS):
        md.append("## Where the time goes in the throughput runs\n")
        md.append("Each path's median throughput run: each process's CPU "
                  "time, and the time it spent runnable but waiting for a "
                  "vCPU (schedstat's run_delay), per event received; the "
                  "share of the vCPUs' time they were idle while the reader "
                  "ran. The bridge is kuifd, or the relay.\n")
        md.append("| path | events/s | CPU (µs per event): driver | bridge "
                  "| reader | waiting for a vCPU (µs per event): driver | "
                  "bridge | reader | vCPUs idle |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

        def cell(p, k):
            key = f"tp.{p}.{k}_ns_per_event"
            if key not in r:
                return "-"
            v = num(r, key)
            if k == "cpu":  # per event sent: here, per event received
                v *= ratio(num(r, f"tp.{p}.sent"), num(r, f"tp.{p}.received"))
            return f"{v / 1000:,.2f}"
        for p in PATHS:
            md.append(f"| {LABEL[p]} | {fmt_rate(tp[p])} | "
                      f"{cell(p, 'driver_cpu')} | {cell(p, 'cpu')} | "
                      f"{cell(p, 'reader_cpu')} | {cell(p, 'driver_wait')} | "
                      f"{cell(p, 'bridge_wait')} | {cell(p, 'reader_wait')} | "
                      f"{num(r, f'tp.{p}.idle_share') * 100:.0f}% |")
        md.append("")

    md.append("## Fan-out (kuifd, ring source)\n")
    steady = r.get(f"fan.{fan[0]}.steady_rate", "?") if fan else "?"
    md.append(f"Saturated: the driver follows kuifd's pace on the ring. "
              f"Steady: {steady} events/s, where kuifd's CPU time per "
              f"event is measured.\n")
    md.append("| subscribers | saturated: events/s at the slowest "
              "subscriber | saturated: lost (worst subscriber) | saturated: "
              "kuifd CPU per event (µs) | steady: lost (worst) | steady: "
              "kuifd CPU per event (µs) | steady: vs 1 subscriber |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|")
    cpu1 = num(r, f"fan.{fan[0]}.cpu_ns_per_event") if fan else 0
    for k in fan:
        c = num(r, f"fan.{k}.cpu_ns_per_event")
        sat = num(r, f"fan.{k}.saturated_cpu_ns_per_event")
        md.append(f"| {k} | {fmt_rate(num(r, f'fan.{k}.rate'))} | "
                  f"{int(num(r, f'fan.{k}.lost_max')):,} | {sat / 1000:,.1f} | "
                  f"{int(num(r, f'fan.{k}.steady_lost_max')):,} | "
                  f"{c / 1000:,.1f} | {ratio(c, cpu1):.2f}x |")
    md.append("")
    if "def.steady_cpu_ns_per_event" in r:
        md.append("## The installed default configuration\n")
        md.append("kuifd as installed (conf/kuifd.conf: netlink, ring, "
                  "signals and inotify on), every event emitted on every "
                  "channel (netlink, ring, signal, upcall), one subscriber: "
                  "each kernel event reaches kuifd up to three times. "
                  "Wakeups: kuifd's voluntary context switches.\n")
        md.append("| run | events | lost | kuifd CPU per event (µs) | "
                  "wakeups per event |")
        md.append("|---|---:|---:|---:|---:|")
        md.append(f"| steady, {r.get('def.steady_rate', '?')} events/s | "
                  f"{int(num(r, 'def.steady_sent')):,} | "
                  f"{int(num(r, 'def.steady_lost')):,} | "
                  f"{num(r, 'def.steady_cpu_ns_per_event') / 1000:,.1f} | "
                  f"{num(r, 'def.steady_wakeups_per_event'):.3f} |")
        md.append(f"| saturated ({fmt_rate(num(r, 'def.saturated_rate'))} "
                  f"events/s) | {int(num(r, 'def.saturated_sent')):,} | "
                  f"{int(num(r, 'def.saturated_lost')):,} | "
                  f"{num(r, 'def.saturated_cpu_ns_per_event') / 1000:,.1f} | "
                  f"{num(r, 'def.saturated_wakeups_per_event'):.3f} |")
        for p, name in (("ring_raw", "direct ring reader"),
                        ("nl_raw", "direct libnl reader")):
            k = f"def.{p}.steady_cpu_ns_per_event"
            if k not in r:
                continue
            md.append(f"| {name} alone: steady / saturated | | | "
                      f"{num(r, k) / 1000:,.1f} / "
                      f"{num(r, f'def.{p}.saturated_cpu_ns_per_event') / 1000:,.1f}"
                      f" | |")
        md.append("")
        md.append("The direct readers' rows are their own CPU time in the "
                  "same boot: what one wakeup per event costs any reader "
                  "here, the floor under kuifd's steady figure.\n")
        md.append(f"Idle (no event for 5 s): "
                  f"{num(r, 'def.idle_wakeups_per_s'):.2f} wakeups and "
                  f"{num(r, 'def.idle_cpu_us_per_s'):,.0f} µs of CPU per "
                  f"second.\n")

    md.append("## Memory\n")
    md.append(f"kuifd's peak RSS (VmHWM) while {int(num(r, 'mem.events')):,} "
              f"events passed with one subscriber that never read: "
              f"**{hwm / 1024:.1f} MiB** (at start "
              f"{num(r, 'mem.start_hwm_kib') / 1024:.1f} MiB; the stalled "
              f"subscriber still connected at the end: "
              f"{r.get('mem.stalled_connected', '?')}).\n")

    sizes = sorted({int(k.split(".")[1]) for k in r
                    if k.startswith("ringsz.") and k.endswith(".rate")})
    if sizes:
        md.append("## The ring's size\n")
        md.append("The zero-loss search of the ring paths again, kuif.ko "
                  "loaded with each `ring_pages`: what the kernel's buffer "
                  "absorbs of the readers' pauses.\n")
        md.append("| ring_pages | direct reader (events/s) | via kuifd "
                  "(events/s) | kuifd / direct |")
        md.append("|---:|---:|---:|---:|")
        rows = [(int(num(r, "meta.ring_pages")), zl["ring_raw"],
                 zl["ring_kuifd"])]
        rows += [(n, num(r, f"ringsz.{n}.ring_raw.rate"),
                  num(r, f"ringsz.{n}.ring_kuifd.rate")) for n in sizes]
        for n, raw_rate, k_rate in sorted(rows):
            md.append(f"| {n} | {fmt_rate(raw_rate)} | {fmt_rate(k_rate)} | "
                      f"{ratio(k_rate, raw_rate):.2f}x |")
        md.append("")

    prof = [p for p in ("ring_kuifd", "ring_relay")
            if os.path.exists(os.path.join(raw, f"profile-{p}.md"))]
    if prof:
        md.append("## Where the bridge's time goes in the VM (sampled)\n")
        md.append("`bench-sample`: the bridge's instruction pointer, taken "
                  "with ptrace while the ring drains into one subscriber "
                  "as fast as it reads (perf's sampling records almost "
                  "nothing under TCG), named by `bench/sample_report.py`. "
                  "An address just after a `syscall` instruction is time "
                  "in the kernel. What TCG makes of each function's "
                  "instructions, which callgrind's counts cannot show.\n")
        for p in prof:
            rate = r.get(f"profile.{p}.rate")
            md.append(f"### {LABEL[p]}"
                      + (f", {int(float(rate)):,} events/s" if rate else "")
                      + "\n")
            with open(os.path.join(raw, f"profile-{p}.md")) as f:
                md.append(f.read().strip() + "\n")

    cg = {k[3:]: num(r, k) for k in r if k.startswith("cg.")}
    if cg:
        md.append("## Instructions per event in the VM (callgrind)\n")
        md.append("`bench/vm/callgrind.sh`: kuifd under callgrind in the same "
                  "boot, the kernel's real channel to K subscribers, counted "
                  "over " + r.get("meta.cg_n", "?") + " events after a "
                  "warm-up. Counts do not depend on the machine's load.\n")
        ks = sorted({int(k.split(".")[1]) for k in cg
                     if "_r" not in k.split(".")[0]})
        md.append("| path | " + " | ".join(f"{k} subscriber{'s' if k > 1 else ''}"
                                            for k in ks) + " | most / one |")
        md.append("|---|" + "---:|" * (len(ks) + 1))
        for p in ("ring", "netlink"):
            row = [cg.get(f"{p}.{k}") for k in ks]
            one, most = cg.get(f"{p}.1"), row[-1]
            tail = f"{ratio(most, one):.2f}x" if one and most else ""
            md.append(f"| {p} | " + " | ".join(
                f"{int(v):,}" if v is not None else "" for v in row) +
                f" | {tail} |")
        md.append("")
        steady = sorted((k for k in cg if "_r" in k.split(".")[0]),
                        key=lambda k: (not k.startswith("ring"), k))
        if steady:
            md.append("One event at a time, at a steady rate (each event a "
                      "wakeup of its own: epoll, the read, the write to the "
                      "subscriber), one subscriber, against the same path "
                      "in batches:\n")
            md.append("| path | rate (events/s) | instructions per event "
                      "| in batches | alone / in batches |")
            md.append("|---|---:|---:|---:|---:|")
            for k in steady:
                path, rate = k.split(".")[0].split("_r")
                v, b = cg[k], cg.get(f"{path}.1")
                md.append(f"| {path} | {rate} | {int(v):,} | "
                          f"{int(b):,} | {ratio(v, b):.2f}x |" if b else
                          f"| {path} | {rate} | {int(v):,} | | |")
            md.append("")

    if callgrind and os.path.exists(callgrind):
        md.append("## Per-event cost on the host (callgrind)\n")
        md.append("`bench/host_callgrind.py`: instructions per event on "
                  "kuifd's own path, fed through its socket.\n")
        with open(callgrind) as f:
            md.append(f.read().strip() + "\n")

    if steady_host and os.path.exists(steady_host):
        h = {}
        with open(steady_host) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if v:
                    h[k] = v
        if "steady_vs_saturated" in h:
            md.append("## Steady against saturated on the host's CPU\n")
            md.append("`bench/host_steady.py`: the host build of kuifd fed "
                      "ring records through its test feed (the ring "
                      "source's decoder), one subscriber; kuifd's own CPU "
                      "time (schedstat) and wakeups. Not under TCG: what one "
                      "wakeup per event costs on this machine's CPU.\n")
            md.append("| run | events | rate (events/s) | kuifd CPU per "
                      "event (µs) | wakeups per event |")
            md.append("|---|---:|---:|---:|---:|")
            md.append(f"| steady | {int(h['steady.events']):,} | "
                      f"{int(h['steady.rate']):,} | "
                      f"{int(h['steady.cpu_ns_per_event']) / 1000:,.2f} | "
                      f"{h['steady.wakeups_per_event']} |")
            md.append(f"| saturated | {int(h['saturated.events']):,} | "
                      f"{int(h['saturated.rate']):,} | "
                      f"{int(h['saturated.cpu_ns_per_event']) / 1000:,.2f} | "
                      f"{h['saturated.wakeups_per_event']} |")
            if "floor.cpu_ns_per_event" in h:
                md.append(f"| steady, bench-floor (the same system calls, "
                          f"no work) | {int(h['steady.events']):,} | "
                          f"{int(h['steady.rate']):,} | "
                          f"{int(h['floor.cpu_ns_per_event']) / 1000:,.2f}"
                          f" | 1 |")
            md.append(f"\nSteady / saturated: "
                      f"**{h['steady_vs_saturated']}x**"
                      + (f"; kuifd steady / bench-floor: "
                         f"**{h['steady_vs_floor']}x**"
                         if "steady_vs_floor" in h else "")
                      + (f" (the median of {h['steady_vs_floor.rounds']} "
                         f"rounds taking turns with bench-floor, from "
                         f"{h['steady_vs_floor.min']}x to "
                         f"{h['steady_vs_floor.max']}x)"
                         if "steady_vs_floor.rounds" in h else "") + ".\n")

    targets = []
    c64 = (ratio(num(r, "fan.64.cpu_ns_per_event"), cpu1)
           if "fan.64.cpu_ns_per_event" in r else float("nan"))
    targets.append(("ring: kuifd zero-loss rate >= 50% of the direct reader's",
                    ratio(zl["ring_kuifd"], zl["ring_raw"]), ">=", 0.5))
    targets.append(("netlink: kuifd zero-loss rate >= 80% of the direct "
                    "reader's", ratio(zl["nl_kuifd"], zl["nl_raw"]), ">=", 0.8))
    targets.append(("kuifd CPU per event, 64 subscribers <= 3x 1 subscriber",
                    c64, "<=", 3.0))
    targets.append(("p99 latency, ring via kuifd <= 2x the direct reader's",
                    ratio(p99["ring_kuifd"], p99["ring_raw"]), "<=", 2.0))
    targets.append(("p99 latency, netlink via kuifd <= 2x the direct "
                    "reader's", ratio(p99["nl_kuifd"], p99["nl_raw"]), "<=", 2.0))
    targets.append(("ring: kuifd saturated throughput >= 25% of the direct "
                    "reader's", ratio(tp["ring_kuifd"], tp["ring_raw"]),
                    ">=", 0.25))
    if "def.steady_cpu_ns_per_event" in r:
        targets.append(("default configuration: CPU per event at the steady "
                        "rate <= 5x saturated",
                        ratio(num(r, "def.steady_cpu_ns_per_event"),
                              num(r, "def.saturated_cpu_ns_per_event")),
                        "<=", 5.0))
        targets.append(("default configuration: wakeups per kernel event at "
                        "the steady rate <= 1.5 (wakeups)",
                        num(r, "def.steady_wakeups_per_event"), "<=", 1.5))
    for p in ("ring", "netlink"):
        if f"{p}.1" in cg:
            targets.append((f"{p}: instructions per event to one subscriber "
                            "<= 5,000 (instructions)", cg[f"{p}.1"], "<=", 5000))
        kmax = max((int(k.split(".")[1]) for k in cg if k.startswith(p + ".")),
                   default=1)
        if kmax > 1 and f"{p}.1" in cg:
            targets.append((f"{p}: instructions per event, {kmax} subscribers "
                            "<= 3x one", ratio(cg[f"{p}.{kmax}"], cg[f"{p}.1"]),
                            "<=", 3.0))
    targets.append(("peak RSS with a stalled subscriber <= 32 MiB (MiB)",
                    hwm / 1024, "<=", 32.0))
    md.append("## Targets\n")
    md.append("| target | measured | met |")
    md.append("|---|---:|:---:|")
    for name, v, op, lim in targets:
        ok = v >= lim if op == ">=" else v <= lim
        unit = "" if "MiB" in name or "wakeups" in name else "x"
        shown = (f"{v:,.0f}" if "(instructions)" in name
                 else f"{v:.2f}{unit}")
        md.append(f"| {name} | {shown} | {'yes' if ok else '**no**'} |")
    md.append("")
    md.append("Also: throughput ratio ring "
              f"{ratio(tp['ring_kuifd'], tp['ring_raw']):.2f}x, netlink "
              f"{ratio(tp['nl_kuifd'], tp['nl_raw']):.2f}x (kuifd / direct).\n")
    if "ring_relay" in PATHS:
        rows = (("saturated throughput", tp), ("zero-loss rate", zl),
                ("p99 latency", p99))
        md.append("The bare relay (bench-relay: the ring read as the direct "
                  "reader reads it, each record written to bench-sub as "
                  "kuifd's line, one write a pass, nothing else) is the "
                  "floor of any bridge with kuifd's two hops, in the same "
                  "boot. Against the direct reader: " +
                  ", ".join(f"{n} {ratio(v['ring_relay'], v['ring_raw']):.2f}x"
                            for n, v in rows) +
                  ". kuifd against the relay: " +
                  ", ".join(f"{n} {ratio(v['ring_kuifd'], v['ring_relay']):.2f}x"
                            for n, v in rows) + ".\n")
    floors = [(name, ratio(num(r, f"def.{p}.steady_cpu_ns_per_event"),
                           num(r, f"def.{p}.saturated_cpu_ns_per_event")))
              for p, name in (("ring_raw", "direct ring reader"),
                              ("nl_raw", "direct libnl reader"))
              if f"def.{p}.steady_cpu_ns_per_event" in r]
    if floors:
        md.append("CPU per event at the steady rate against saturated, for "
                  "the direct readers in the same boot: " +
                  ", ".join(f"{n} {v:.1f}x" for n, v in floors) +
                  " (kuifd's target above is 5x).\n")
    perfs = sorted(f for f in os.listdir(raw)
                   if f.startswith("perf-") and f.endswith(".txt"))
    for f in perfs:
        shutil.copy(os.path.join(raw, f), os.path.join(out, f))
    if perfs:
        md.append("Where kuifd's time goes (perf, cpu-clock samples of kuifd "
                  "in the VM): " + ", ".join(f"[{f}]({f})" for f in perfs)
                  + ".\n")
    md.append("![throughput](throughput.png)\n")
    md.append("![latency](latency.png)\n")
    md.append("![fan-out](fanout.png)\n")

    text = "\n".join(md)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text)
    shutil.copy(os.path.join(raw, "results.txt"),
                os.path.join(out, "results.txt"))
    if os.path.exists(os.path.join(raw, "kuifd-journal.txt")):
        shutil.copy(os.path.join(raw, "kuifd-journal.txt"),
                    os.path.join(out, "kuifd-journal.txt"))

    # Plots.
    dat = os.path.join(out, ".throughput.dat")
    with open(dat, "w") as f:
        for p in PATHS:
            f.write(f'"{LABEL[p]}" {tp[p]:.0f} {zl[p]:.0f}\n')
    gnuplot(f"""
set terminal pngcairo size 900,500
set output '{out}/throughput.png'
set title 'Events per second (same VM boot)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'events/s'
set yrange [0:*]
set grid ytics
set key top right
plot '{dat}' using 2:xtic(1) title 'throughput', '' using 3 title 'zero-loss steady rate'
""")
    cdfs = []
    for p in PATHS:
        d = os.path.join(out, f".lat-{p}.dat")
        v = lat[p]
        step = max(1, len(v) // 2000)
        with open(d, "w") as f:
            for i in range(0, len(v), step):
                f.write(f"{v[i] / 1000:.3f} {(i + 1) / len(v):.5f}\n")
            f.write(f"{v[-1] / 1000:.3f} 1\n")
        cdfs.append(f"'{d}' using 1:2 with lines lw 2 title '{LABEL[p]}'")
    gnuplot(f"""
set terminal pngcairo size 900,500
set output '{out}/latency.png'
set title 'Latency, kernel timestamp to receipt ({r["meta.lat_rate"]} events/s)'
set xlabel 'latency (µs, log scale)'
set ylabel 'fraction of events'
set logscale x
set grid
set key bottom right
plot {", ".join(cdfs)}
""")
    d = os.path.join(out, ".fanout.dat")
    with open(d, "w") as f:
        for k in fan:
            f.write(f"{k} {num(r, f'fan.{k}.rate'):.0f} "
                    f"{num(r, f'fan.{k}.cpu_ns_per_event') / 1000:.3f}\n")
    gnuplot(f"""
set terminal pngcairo size 900,500
set output '{out}/fanout.png'
set title 'kuifd fan-out'
set xlabel 'subscribers'
set logscale x 2
set ylabel 'events/s at the slowest subscriber'
set y2label 'kuifd CPU per event (µs)'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
plot '{d}' using 1:2 with linespoints lw 2 title 'events/s', '' using 1:3 axes x1y2 with linespoints lw 2 title 'CPU per event'
""")
    for f in os.listdir(out):
        if f.startswith(".") and f.endswith(".dat"):
            os.unlink(os.path.join(out, f))
    print(text)


if __name__ == "__main__":
    main()
