#!/usr/bin/env python3
"""Turn the benchmark logs into the table, results.json, charts and report.

Inputs are the serial logs of the Granite and Linux guests, each run twice:
plain TCG (wall time: cycles / TSC kHz) and -icount shift=0 (the TSC counts
retired instructions, so "cycles" there are exact instruction counts).
Every line looks like
    BENCH <name> cycles_median=N cycles_min=N batches=N per_batch=N kind=K
where N cycles are TSC ticks per operation. Disk figures (kind=MBps or
kind=iops, which also give bytes=B, the bytes one operation moves) are
turned into MB/s (10^6 bytes per second) and operations per second here:
higher is better for them, and they are reported in a section of their own.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess

# What each figure is compared with: the floor (the least this emulator
# allows for the same kind of work) and the nearest Linux figure.
FLOOR = [
    (r"^ipc\.same_as_", "floor.same_as_rt"),
    (r"^ipc\.cross_as_", "floor.cross_as_rt"),
    (r"^notify\.rt$", "floor.cross_as_rt"),
    (r"^(syscall\.enosys_rt|entry\.)", "syscall.null_rt"),
    (r"^grant\.copy_(64B|4KiB|64KiB|1MiB)", lambda m: "kernel.copy_" + m.group(1)),
    (r"^ipc\.large_send_(4KiB|64KiB)$", lambda m: "kernel.copy_" + m.group(1)),
    (r"^disk\.rand_read_4KiB_iops$", "disk.raw_read_4KiB_iops"),
    (r"^disk\.seq_read_MBps$", "disk.raw_seq_read_MBps"),
]
LINUX = [
    (r"^(syscall|entry)\.", "linux.getppid"),
    (r"^(ipc\.(same|cross)_as_rt|floor\.)", "linux.futex_rt"),
    (r"^notify\.rt$", "linux.eventfd_rt"),
    (r"^(grant\.copy|ipc\.large_send)_(4KiB|64KiB)", lambda m: "linux.pipe_xfer_" + m.group(2)),
    # Granite's disk.* go through its file system, Linux's through the raw
    # device (the harder bar); the driver alone against the raw device.
    # Granite acknowledges each write durable, so its writes stand beside
    # Linux's with an fdatasync after each request (like with like).
    (r"^disk\.seq_write_MBps$", "linux.disk.seq_write_durable_MBps"),
    (r"^disk\.(seq_read_MBps|rand_read_4KiB_iops)$",
     lambda m: "linux.disk." + m.group(1)),
    (r"^disk\.raw_read_4KiB_iops$", "linux.disk.rand_read_4KiB_iops"),
    (r"^disk\.raw_seq_read_MBps$", "linux.disk.seq_read_MBps"),
]

# Kinds measured as throughput rather than time per operation.
DISK_UNITS = {"MBps": "MB/s", "iops": "IOPS"}

DESCRIPTIONS = {
    "syscall.null_rt": "null SYSCALL round trip (benchmark kernel: straight back)",
    "syscall.enosys_rt": "SYSCALL slow path: all registers saved, dispatch, -E_NOSYS",
    "entry.int80_null_rt": "null round trip through an int 0x80 gate (benchmark kernel)",
    "entry.ud2_null_rt": "null round trip through a ud2 trap (benchmark kernel)",
    "floor.same_as_rt": "floor: unchecked thread switch there and back, same address space",
    "floor.cross_as_rt": "floor: unchecked switch there and back, two address spaces",
    "notify.rt": "notification there and back (two processes)",
    "disk.seq_write_MBps": "16 MiB file written in 1 MiB requests, each durable when it returns",
    "disk.seq_read_MBps": "16 MiB file read in 1 MiB requests",
    "disk.rand_read_4KiB_iops": "4 KiB reads at random offsets of the file",
    "disk.raw_read_4KiB_iops": "4 KiB reads from the driver alone, no file system",
    "disk.raw_seq_read_MBps": "the first 16 MiB read in 1 MiB requests from the driver alone",
    "linux.disk.seq_write_MBps": "raw /dev/vda, O_DIRECT, 1 MiB requests, fsync included",
    "linux.disk.seq_write_durable_MBps":
        "raw /dev/vda, O_DIRECT, 1 MiB requests, each followed by fdatasync",
    "linux.disk.seq_read_MBps": "raw /dev/vda, O_DIRECT, 1 MiB requests",
    "linux.disk.rand_read_4KiB_iops": "raw /dev/vda, O_DIRECT, random 4 KiB reads",
    "linux.disk.fs_seq_write_MBps": "a file on vfat (FAT32), O_DIRECT, fsync included",
    "linux.disk.fs_seq_write_durable_MBps":
        "a file on vfat (FAT32), O_DIRECT, each 1 MiB request followed by fdatasync",
    "linux.disk.fs_seq_read_MBps": "a file on vfat (FAT32), O_DIRECT",
    "linux.disk.fs_rand_read_4KiB_iops": "a file on vfat (FAT32), O_DIRECT, random 4 KiB reads",
}


def parse(path):
    """{name: {"median": cycles, "min": cycles, ...}}, and the TSC kHz.
    Each figure keeps the kHz of the last BENCH-INFO before it (a log may hold
    several programs, each with its own calibration); the one returned is the
    first."""
    figures, khz, last_khz = {}, None, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip().replace("\r", "")
            m = re.search(r"BENCH-INFO tsc_khz=(\d+)", line)
            if m:
                last_khz = int(m.group(1))
                if khz is None:
                    khz = last_khz
            m = re.match(r"BENCH (\S+) (.*)", line)
            if not m:
                continue
            kv = dict(p.split("=", 1) for p in m.group(2).split() if "=" in p)
            figures[m.group(1)] = {
                "median": int(kv["cycles_median"]),
                "min": int(kv["cycles_min"]),
                "batches": int(kv.get("batches", 0)),
                "per_batch": int(kv.get("per_batch", 0)),
                "kind": kv.get("kind", ""),
                "bytes": int(kv.get("bytes", 0)),
                "khz": last_khz,
            }
            if figures[m.group(1)]["kind"] == "MBps" and not figures[m.group(1)]["bytes"]:
                raise SystemExit(f"report: {m.group(1)} in {path} is kind=MBps without bytes=")
    if khz is None:
        raise SystemExit(f"report: no BENCH-INFO tsc_khz line in {path}")
    return figures, khz


def lookup(rules, name):
    for pattern, target in rules:
        m = re.match(pattern, name)
        if m:
            return target(m) if callable(target) else target
    return None


def qemu_version():
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
        return out.stdout.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def host_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def combine(paths):
    """Several wall-time runs as one: per figure the median of the runs'
    medians and the smallest minimum."""
    runs = [parse(p) for p in paths]
    khz = runs[0][1]
    out = {}
    for name in runs[0][0]:
        fs = [r[0][name] for r in runs if name in r[0]]
        meds = sorted(f["median"] for f in fs)
        out[name] = dict(fs[0], median=meds[len(meds) // 2], min=min(f["min"] for f in fs),
                         runs=len(fs))
    return out, khz


def build(args):
    gw, gkhz = combine(args.granite_wall)
    gi, _ = parse(args.granite_icount)
    lw, lkhz = parse(args.linux_wall)
    li, _ = parse(args.linux_icount)

    def ns(cycles, khz):
        return cycles * 1e6 / khz

    rows = []
    for source, wall, icount, khz in (("granite", gw, gi, gkhz), ("linux", lw, li, lkhz)):
        for name, f in wall.items():
            fk = f.get("khz") or khz
            row = {
                "name": name,
                "unit": "ns",
                "median": round(ns(f["median"], fk), 1),
                "min": round(ns(f["min"], fk), 1),
                "instructions": icount.get(name, {}).get("median"),
                "ratio_to_floor": None,
                "ratio_to_linux": None,
                "kind": f["kind"],
                "batches": f["batches"],
                "per_batch": f["per_batch"],
                "system": source,
            }
            if f["kind"] in DISK_UNITS:
                row.update(disk_row(f, ns(f["median"], fk), ns(f["min"], fk)))
            rows.append(row)
    by_name = {r["name"]: r for r in rows}
    for r in rows:
        if r["system"] != "granite":
            continue
        floor = lookup(FLOOR, r["name"])
        if floor in by_name and floor != r["name"]:
            r["ratio_to_floor"] = ratio(r, by_name[floor], 2)
        linux = lookup(LINUX, r["name"])
        if linux in by_name:
            r["ratio_to_linux"] = ratio(r, by_name[linux], 3)
    return rows, by_name


def disk_row(f, ns_median, ns_min):
    """A disk figure's throughput: from the median batch, and from the
    fastest ("best"). No instruction count: under -icount the TSC also counts
    the time the guest sits idle waiting for QEMU's I/O thread."""
    def value(ns_per_op):
        if f["kind"] == "MBps":
            return f["bytes"] * 1e3 / ns_per_op  # bytes per ns * 1e9 / 1e6
        return 1e9 / ns_per_op

    return {
        "unit": DISK_UNITS[f["kind"]],
        "median": round(value(ns_median), 1),
        "best": round(value(ns_min), 1),
        "ns_per_op_median": round(ns_median, 1),
        "ns_per_op_min": round(ns_min, 1),
        "instructions": None,
    }


def ratio(r, ref, digits):
    """r's cost over ref's (time per operation), so that below 1 is better
    for every row, throughput rows included (there it is ref's MB/s or IOPS
    over r's). None when the two are not in the same unit."""
    if r["unit"] != ref["unit"]:
        return None
    if r["unit"] == "ns":
        return round(r["median"] / ref["median"], digits)
    return round(ref["median"] / r["median"], digits)


def fmt_time(ns):
    return f"{ns / 1000:.2f} us" if ns >= 1000 else f"{ns:.0f} ns"


def is_disk(r):
    return r["unit"] != "ns"


def fmt_value(r, v):
    return f"{v:.1f} MB/s" if r["unit"] == "MB/s" else f"{v:.0f} IOPS"


def fmt_ratios(r):
    fl = "" if r["ratio_to_floor"] is None else f"{r['ratio_to_floor']:.2f}"
    li = "" if r["ratio_to_linux"] is None else f"{r['ratio_to_linux']:.3f}"
    return fl, li


DISK_NOTE = ("higher is better; x floor and x Linux are time per request over the "
             "reference's, so below 1 is faster")


def table(rows):
    lines = [
        f"{'figure':44} {'median':>11} {'min':>11} {'instr.':>9} {'x floor':>8} {'x Linux':>8}",
        "-" * 95,
    ]
    for r in rows:
        if is_disk(r):
            continue
        ins = "" if r["instructions"] is None else str(r["instructions"])
        fl, li = fmt_ratios(r)
        lines.append(f"{r['name']:44} {fmt_time(r['median']):>11} {fmt_time(r['min']):>11} "
                     f"{ins:>9} {fl:>8} {li:>8}")
    disk = [r for r in rows if is_disk(r)]
    if disk:
        lines += ["", f"disk ({DISK_NOTE})",
                  f"{'figure':44} {'median':>13} {'best':>13} {'x floor':>8} {'x Linux':>8}",
                  "-" * 90]
        for r in disk:
            fl, li = fmt_ratios(r)
            lines.append(f"{r['name']:44} {fmt_value(r, r['median']):>13} "
                         f"{fmt_value(r, r['best']):>13} {fl:>8} {li:>8}")
    return "\n".join(lines)


def targets(by_name):
    """The issue's targets, each with its figure and whether it is met."""
    def g(n, field="median"):
        return by_name.get(n, {}).get(field)

    out = []
    rt, floor, futex = g("ipc.cross_as_rt_64B_fast"), g("floor.cross_as_rt"), g("linux.futex_rt")
    if rt and floor:
        out.append(("cross-address-space round trip <= 1.3x the floor (wall)",
                    f"{rt / floor:.2f}x ({fmt_time(rt)} vs {fmt_time(floor)})", rt / floor <= 1.3))
    if rt and futex:
        out.append(("at least 10x faster than Linux futex ping-pong",
                    f"{futex / rt:.1f}x ({fmt_time(rt)} vs {fmt_time(futex)})", futex / rt >= 10))
    ins = g("ipc.cross_as_rt_64B_fast", "instructions")
    if ins:
        out.append(("<= 200 guest instructions per cross-AS round trip, 64-byte message",
                    f"{ins} instructions (seL4 fastpath: 443, empty message)", ins <= 200))
    gc, kc = g("grant.copy_64KiB"), g("kernel.copy_64KiB")
    if gc and kc:
        out.append(("grant copy of 64 KiB <= 1.3x a bare kernel copy",
                    f"{gc / kc:.2f}x ({fmt_time(gc)} vs {fmt_time(kc)})", gc / kc <= 1.3))
    # Growth is judged on exact instruction counts, with wall time beside
    # them: wall medians of two runs minutes apart differ more than the
    # effects looked for.
    for what, a, b, limit in (
            ("round trip with 64 clients within 1.2x of one client",
             "ipc.cross_as_rt_64B_1_clients", "ipc.cross_as_rt_64B_64_clients", 1.2),
            ("grant copy independent of the number of live grants (1 vs 4096)",
             "grant.copy_4KiB", "grant.copy_4KiB_4096_live_grants", 1.1)):
        ia, ib, wa, wb = g(a, "instructions"), g(b, "instructions"), g(a), g(b)
        if ia and ib and wa and wb:
            out.append((what, f"{ib / ia:.2f}x in instructions ({ib} vs {ia}); "
                              f"{wb / wa:.2f}x in wall time", ib / ia <= limit))
    return out + disk_targets(by_name)


def disk_targets(by_name):
    """The storage issue's two targets, always listed: met is None (not
    measured) until Granite's disk.* rows exist. Linux's figures stand
    beside them for scale, never in Granite's place."""
    def g(n):
        r = by_name.get(n)
        return r["median"] if r and is_disk(r) else None

    out = []
    what = "sequential 1 MiB requests: at least Linux's throughput (write and read)"
    gw, gr = g("disk.seq_write_MBps"), g("disk.seq_read_MBps")
    # Like with like: each write durable when it returns, on both sides;
    # Linux's one fsync per 16 MiB is shown beside it.
    lw_once = g("linux.disk.seq_write_MBps")
    lw, lr = g("linux.disk.seq_write_durable_MBps") or lw_once, g("linux.disk.seq_read_MBps")
    if gw and gr and lw and lr:
        once = (f"; Linux with one fsync per 16 MiB instead: {lw_once:.1f} MB/s"
                if lw_once and lw_once != lw else "")
        out.append((what, f"write (each durable) {gw:.1f} vs {lw:.1f} MB/s ({gw / lw:.2f}x Linux), "
                          f"read {gr:.1f} vs {lr:.1f} MB/s ({gr / lr:.2f}x Linux){once}",
                    gw >= lw and gr >= lr))
    else:
        missing = [n for n, v in (("disk.seq_write_MBps", gw), ("disk.seq_read_MBps", gr),
                               ("linux.disk.seq_write_MBps", lw),
                               ("linux.disk.seq_read_MBps", lr)) if v is None]
        linux = (f"; Linux, raw device: write {lw:.1f} MB/s, read {lr:.1f} MB/s"
                 if lw and lr else "")
        out.append((what, f"no {', '.join(missing)} yet{linux}", None))

    what = "4 KiB read through file system + driver within 2x of a bare driver read"
    fs, raw = g("disk.rand_read_4KiB_iops"), g("disk.raw_read_4KiB_iops")
    lfs, lraw = g("linux.disk.fs_rand_read_4KiB_iops"), g("linux.disk.rand_read_4KiB_iops")
    linux = (f"; for scale, Linux: a read through vfat takes {lraw / lfs:.2f}x the time of a "
             f"raw-device read ({lfs:.0f} vs {lraw:.0f} IOPS)" if lfs and lraw else "")
    if fs and raw:
        out.append((what, f"{raw / fs:.2f}x the time ({fs:.0f} vs {raw:.0f} IOPS){linux}",
                    raw / fs <= 2))
    else:
        missing = [n for n, v in (("disk.rand_read_4KiB_iops", fs),
                               ("disk.raw_read_4KiB_iops", raw)) if v is None]
        out.append((what, f"no {', '.join(missing)} yet{linux}", None))
    return out


def met_word(ok, md=False):
    if ok is None:
        return "not measured"
    if ok:
        return "yes" if md else "met"
    return "**no**" if md else "NOT met"


def chart(by_name, path):
    """Two SVG charts drawn by gnuplot: round-trip latency against message
    size, and copy time against size, for Granite, the floor and Linux."""
    def pts(pairs):
        return "\n".join(f"{x} {by_name[n]['median'] / 1000:.3f}" for x, n in pairs
                         if n in by_name) + "\ne\n"

    sizes = [(1, "ipc.cross_as_rt_0B_fast"), (8, "ipc.cross_as_rt_8B_fast"),
             (64, "ipc.cross_as_rt_64B_fast"), (4096, "ipc.large_send_4KiB"),
             (65536, "ipc.large_send_64KiB")]
    same = [(1, "ipc.same_as_rt_0B_fast"), (8, "ipc.same_as_rt_8B_fast"),
            (64, "ipc.same_as_rt_64B_fast")]
    slow = [(1, "ipc.cross_as_rt_0B_slow"), (8, "ipc.cross_as_rt_8B_slow"),
            (64, "ipc.cross_as_rt_64B_slow")]
    floor = [(1, "floor.cross_as_rt"), (65536, "floor.cross_as_rt")]
    linux = [(1, "linux.pipe_rt_1B"), (4096, "linux.pipe_xfer_4KiB"),
             (65536, "linux.pipe_xfer_64KiB")]
    futex = [(1, "linux.futex_rt"), (65536, "linux.futex_rt")]
    copies = [(64, "grant.copy_64B"), (4096, "grant.copy_4KiB"), (65536, "grant.copy_64KiB"),
              (1048576, "grant.copy_1MiB")]
    kernel = [(64, "kernel.copy_64B"), (4096, "kernel.copy_4KiB"),
              (65536, "kernel.copy_64KiB"), (1048576, "kernel.copy_1MiB")]
    lcopy = [(4096, "linux.pipe_xfer_4KiB"), (65536, "linux.pipe_xfer_64KiB")]
    script = f"""
set terminal svg size 1100,450 font "sans,11" background rgb "white"
set output "{path}"
set multiplot layout 1,2
set logscale xy
set grid
set key bottom right font ",10"
set xlabel "message size (bytes; 0 plotted at 1)"
set ylabel "round trip, median (us)"
set title "IPC round trip vs message size (QEMU TCG, wall time)"
plot "-" with linespoints lw 2 title "Granite, 2 processes (>64 B: through a grant)", \\
     "-" with linespoints lw 2 title "Granite, 2 threads, 1 process", \\
     "-" with linespoints lw 2 title "Granite slow path, 2 processes", \\
     "-" with lines lw 1 title "floor: unchecked switch, 2 processes", \\
     "-" with linespoints lw 2 title "Linux pipe ping-pong / transfer", \\
     "-" with lines lw 1 title "Linux futex ping-pong"
{pts(sizes)}{pts(same)}{pts(slow)}{pts(floor)}{pts(linux)}{pts(futex)}
set key top left font ",10"
set xlabel "bytes copied"
set ylabel "time per copy, median (us)"
set title "Copy time vs size"
plot "-" with linespoints lw 2 title "Granite grant copy (syscall, checks, page walks)", \\
     "-" with linespoints lw 2 title "bare kernel copy, 8-byte moves", \\
     "-" with linespoints lw 2 title "Linux pipe transfer + 1-byte reply"
{pts(copies)}{pts(kernel)}{pts(lcopy)}
unset multiplot
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"report: gnuplot failed ({e}); no chart")
        return False


def findings(by_name):
    """What the figures say about the claims the project started from."""
    out = []
    sc, i80, ud = (by_name.get(n, {}).get("median") for n in
                   ("syscall.null_rt", "entry.int80_null_rt", "entry.ud2_null_rt"))
    if sc and i80 and ud:
        slowest = "the ud2 trap" if ud > i80 else "the int 0x80 gate"
        close = abs(ud - i80) / min(ud, i80) < 0.15
        out.append(
            f"- **Kernel entry mechanisms** (null round trip): SYSCALL {fmt_time(sc)}, "
            f"int 0x80 {fmt_time(i80)} ({i80 / sc:.1f}x), ud2 trap {fmt_time(ud)} ({ud / sc:.1f}x). "
            "The seed's claim that SYSCALL is fastest holds by a wide margin. Its order for the "
            "other two (trap slowest, software interrupt next) "
            + ("is not borne out under QEMU TCG: the two are within run-to-run noise of each "
               "other, as both go through the same IDT delivery and IRETQ."
               if close else f"is {'borne out' if ud > i80 else 'reversed'} here: {slowest} is slower."))
    rt, fl = by_name.get("ipc.cross_as_rt_64B_fast"), by_name.get("floor.cross_as_rt")
    if rt and fl and rt.get("instructions") and fl.get("instructions"):
        out.append(
            f"- **Where a cross-address-space round trip goes**: {rt['instructions']} guest "
            f"instructions against the floor's {fl['instructions']}, yet {rt['median'] / fl['median']:.2f}x "
            "its wall time: the two CR3 writes (each flushes QEMU's soft-TLB, about 2 us) are "
            "most of the cost, and the fast path writes CR3 only when the address space changes "
            "(same-address-space round trips stay below 0.3 us).")
    slow = by_name.get("ipc.cross_as_rt_64B_slow")
    if rt and slow and slow.get("instructions"):
        out.append(
            f"- **Fast path against slow path**: {rt['instructions']} against "
            f"{slow['instructions']} instructions per round trip; in wall time "
            f"{fmt_time(rt['median'])} against {fmt_time(slow['median'])}. The message is in "
            "registers either way, so 0, 8 and 64-byte messages cost the same.")
    return out


# docs/benchmarks.md holds hand-written analysis (where the instructions and
# the wall time go) in marked parts; --update-docs regenerates everything else
# and puts each part back where it was, so findings never die with a rerun.
KEPT_PARTS = ("analysis", "disk")


def keep_markers(name):
    return (f"<!-- hand-written {name}: kept as it is by ./granite bench --update-docs -->",
            f"<!-- end of hand-written {name} -->")


def kept_parts(path):
    """Each marked hand-written part of an earlier report at path, by name."""
    try:
        text = open(path).read()
    except OSError:
        return {}
    out = {}
    for name in KEPT_PARTS:
        begin, end = keep_markers(name)
        a, b = text.find(begin), text.find(end)
        if a >= 0 and b > a:
            out[name] = text[a:b + len(end)]
    return out


def markdown(rows, by_name, meta, tgts, chart_name, kept):
    lines = [
        "# Benchmarks",
        "",
        "Produced by `./granite bench` (bench/bench.sh) on "
        f"{meta['date']}: {meta['host_cpu']}, {meta['qemu']}, TCG (`-accel tcg -cpu max`), "
        "1 vCPU. Every figure is the median (and minimum) over many batches, each batch "
        "timing at least 64 operations between two `lfence; rdtsc` reads after a warm-up; "
        "Granite's wall times are the median of three boots' medians (and the least minimum). "
        "Wall times come from a plain TCG run; instruction counts from a second run under "
        "`-icount shift=0`, where the TSC counts retired guest instructions exactly "
        "(entry mechanisms such as `int 0x80` cost almost no instructions: their cost shows "
        "only in wall time). *rt* figures are round trips (there and back), never one-way.",
        "",
    ] + ([kept["analysis"], ""] if "analysis" in kept else []) + [
        "The floor is the benchmark kernel's unchecked switch (no checks, no state saved): the "
        "least a round trip can cost on this emulator. Linux is Debian's kernel and "
        "busybox-static booted in the same QEMU; its figures come from bench/linux/ipcbench.c "
        "(disk: diskbench.c).",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for what, measured, ok in tgts:
        lines.append(f"| {what} | {measured} | {met_word(ok, md=True)} |")
    lines += ["", "## Findings", ""] + findings(by_name)
    lines += ["", f"![round trip and copy charts]({chart_name})", "", "## All figures", "",
              "| figure | median | min | instructions | x floor | x Linux |",
              "|---|---:|---:|---:|---:|---:|"]
    def label(name):
        desc = DESCRIPTIONS.get(name)
        return f"`{name}`" + (f" ({desc})" if desc else "")

    for r in rows:
        if is_disk(r):
            continue
        ins = "" if r["instructions"] is None else str(r["instructions"])
        fl, li = fmt_ratios(r)
        lines.append(f"| {label(r['name'])} | {fmt_time(r['median'])} | {fmt_time(r['min'])} | "
                     f"{ins} | {fl} | {li} |")
    lines += ["", "Names: `ipc.<same_as|cross_as>_rt_<size>_<fast|slow>` is a call/reply_recv "
              "round trip; *slow* forces the slow path (a timeout in the info word) with the "
              "same semantics. `grant.copy_<size>` is one SYS_GRANT_COPY_FROM; "
              "`kernel.copy_<size>` the same bytes moved by the kernel with no checks. "
              "`ipc.large_send_<size>` is a whole large message: grant create, call, the "
              "server's copy, reply, revoke. `..._<n>_clients` is total time over total round "
              "trips while n client processes call one server.", ""]
    disk = [r for r in rows if is_disk(r)]
    if disk:
        lines += ["## Disk", "",
                  "One virtio-blk disk, attached the same way to both systems "
                  "(bench/disk-device.sh: a 64 MiB raw image, `cache=writeback`, virtio 1.0 "
                  "only, one queue of 256). Sequential figures: passes over a 16 MiB region in "
                  "1 MiB requests, the write passes ending with a flush that is timed with them; "
                  "median and best pass. Random reads: 4 KiB at seeded random offsets in the "
                  "same region, batches of 64. Linux uses `O_DIRECT` throughout, so its page "
                  "cache is not what is measured (bench/linux/diskbench.c); its `fs_` rows go "
                  "through a vfat (FAT32) file system on the same disk. MB/s are 10^6 bytes per "
                  "second. Higher is better for the figures; x floor and x Linux are still time "
                  "per request against the reference, so below 1 means faster. No "
                  "instruction counts: under `-icount` the TSC also counts idle waiting for "
                  "the emulated device.", "",
                  "| figure | median | best | x floor | x Linux |",
                  "|---|---:|---:|---:|---:|"]
        for r in disk:
            fl, li = fmt_ratios(r)
            lines.append(f"| {label(r['name'])} | {fmt_value(r, r['median'])} | "
                         f"{fmt_value(r, r['best'])} | {fl} | {li} |")
        lines.append("")
        if "disk" in kept:
            lines += [kept["disk"], ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--granite-wall", required=True, action="append",
                    help="a wall-time log; give several to combine runs")
    ap.add_argument("--granite-icount", required=True)
    ap.add_argument("--linux-wall", required=True)
    ap.add_argument("--linux-icount", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", help="also copy the report and chart here")
    args = ap.parse_args()

    rows, by_name = build(args)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "qemu": qemu_version(),
        "host_cpu": host_cpu(),
        "command": "./granite bench",
    }
    # Ratios are time per operation against the reference for every row
    # (below 1: faster); disk rows give throughput, "best" instead of "min".
    results = [{k: r[k] for k in ("name", "unit", "median", "min", "instructions",
                                  "ratio_to_floor", "ratio_to_linux")} if not is_disk(r) else
               {k: r[k] for k in ("name", "unit", "median", "best", "instructions",
                                  "ratio_to_floor", "ratio_to_linux", "ns_per_op_median",
                                  "ns_per_op_min")} | {"better": "higher"} for r in rows]
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({**meta, "results": results}, f, indent=2)
        f.write("\n")

    print(table(rows))
    tgts = targets(by_name)
    print("\nFindings:")
    for f in findings(by_name):
        print("  " + f.replace("**", ""))
    print("\nTargets:")
    for what, measured, ok in tgts:
        print(f"  [{met_word(ok)}] {what}: {measured}")

    chart_name = "benchmarks.svg"
    has_chart = chart(by_name, os.path.join(args.out, chart_name))
    kept = kept_parts(os.path.join(args.docs, "benchmarks.md")) if args.docs else {}
    md = markdown(rows, by_name, meta, tgts, chart_name, kept)
    with open(os.path.join(args.out, "benchmarks.md"), "w") as f:
        f.write(md)
    if args.docs:
        shutil.copy(os.path.join(args.out, "benchmarks.md"), os.path.join(args.docs, "benchmarks.md"))
        if has_chart:
            shutil.copy(os.path.join(args.out, chart_name), os.path.join(args.docs, chart_name))


if __name__ == "__main__":
    main()
