#!/usr/bin/env python3
"""Seed inputs for the fuzzers: a few valid and a few near-miss inputs per
target, so fuzzing starts past the magic numbers and size checks. Writes
corpus/<target>/seed-*; run it again after changing an input format (it
never touches the regress-* files). With --images DIR it also writes the
FAT32 seeds' volumes there, padded to full size, for fsck.fat to judge."""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = sys.argv[sys.argv.index("--images") + 1] if "--images" in sys.argv else None


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- Multiboot2 boot information (kernel/mb2.h) ----


def tag(type_, body):
    t = struct.pack("<II", type_, 8 + len(body)) + body
    return t + b"\0" * (-len(t) % 8)  # tags are 8-byte aligned


def mb2(*tags, total=None, end=True):
    body = b"".join(tags) + (tag(0, b"") if end else b"")
    size = 8 + len(body) if total is None else total
    return struct.pack("<II", size, 0) + body


def mmap_tag(entries, entry_size=24):
    body = struct.pack("<II", entry_size, 0)
    for base, length, type_ in entries:
        e = struct.pack("<QQII", base, length, type_, 0)
        body += e + b"\0" * (entry_size - len(e))
    return tag(6, body)


def module(start, end, cmdline):
    return tag(3, struct.pack("<II", start, end) + cmdline + b"\0")


MMAP = mmap_tag([(0, 0x9FC00, 1), (0x100000, 0x7EE0000, 1), (0xFFFC0000, 0x40000, 2)])

write("mb2", "minimal", mb2(MMAP))
write("mb2", "full", mb2(
    tag(1, b"klog=serial test=all\0"),
    tag(2, b"GRUB 2.06\0"),
    module(0x200000, 0x201000, b"ksyms"),
    module(0x202000, 0x210000, b"init arg1 arg2"),
    tag(8, b"\0" * 24),  # framebuffer: ignored
    MMAP))
write("mb2", "mmap-wide-entries", mb2(mmap_tag([(0, 0x1000, 1), (0x2000, 0x1000, 3)], 32)))
write("mb2", "modules-32", mb2(*[module(i << 12, (i + 1) << 12, b"m") for i in range(32)], MMAP))
write("mb2", "modules-33", mb2(*[module(i << 12, (i + 1) << 12, b"m") for i in range(33)], MMAP))
write("mb2", "no-mmap", mb2(tag(1, b"x\0")))
write("mb2", "no-end", mb2(MMAP, end=False))
write("mb2", "truncated", mb2(MMAP, total=8 + len(MMAP) + 16))
write("mb2", "cmdline-unterminated", mb2(tag(1, b"abcdefgh"), MMAP))
write("mb2", "acpi-old-and-new", mb2(tag(14, b"RSD PTR " + b"\0" * 12), tag(15, b"RSD PTR " + b"\0" * 28), MMAP))


# ---- ACPI tables (kernel/acpi.h; input layout in fuzz_acpi.c) ----


def acpi_sum(b, at):
    b = bytearray(b)
    b[at] = 0
    b[at] = (-sum(b)) & 0xff
    return bytes(b)


def sdt_table(sig, body):
    h = sig + struct.pack("<IBB6s8sIII", 36 + len(body), 1, 0, b"GRANIT", b"SEEDTABL", 1, 0, 0)
    return acpi_sum(h + body, 9)


def acpi_input(rsdp, tables, base=0x1000):
    """tables: {offset: bytes} inside a memory image starting at pa `base`."""
    size = max(off + len(t) for off, t in tables.items())
    mem = bytearray(size)
    for off, t in tables.items():
        mem[off:off + len(t)] = t
    return bytes([len(rsdp)]) + rsdp + bytes(mem)


def rsdp1(rsdt):
    return acpi_sum(b"RSD PTR " + b"\0" + b"BOCHS " + b"\0" + struct.pack("<I", rsdt), 8)


def rsdp2(rsdt, xsdt):
    v1 = bytearray(rsdp1(rsdt))
    v1[15] = 2
    v1 = acpi_sum(bytes(v1), 8)
    return acpi_sum(v1 + struct.pack("<IQ", 36, xsdt) + b"\0" * 4, 32)


def madt(entries, lapic=0xfee00000, flags=1):
    return sdt_table(b"APIC", struct.pack("<II", lapic, flags) + b"".join(entries))


LAPIC = [struct.pack("<BBBBI", 0, 8, i, i, 1) for i in range(2)]
IOAPIC = struct.pack("<BBBBII", 1, 12, 0, 0, 0xfec00000, 0)
OVERRIDE = struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0)
X2APIC = struct.pack("<BBHIII", 9, 16, 0, 0x100, 1, 0)
QEMU_MADT = madt(LAPIC + [IOAPIC, OVERRIDE])
write("acpi", "qemu-rsdt", acpi_input(rsdp1(0x1100), {
    0x100: sdt_table(b"RSDT", struct.pack("<II", 0x1300, 0x1400)),
    0x300: sdt_table(b"FACP", b"\0" * 80),
    0x400: QEMU_MADT}))
write("acpi", "xsdt-x2apic", acpi_input(rsdp2(0x1100, 0x1200), {
    0x100: sdt_table(b"RSDT", struct.pack("<I", 0x1400)),
    0x200: sdt_table(b"XSDT", struct.pack("<Q", 0x1400)),
    0x400: madt(LAPIC + [X2APIC, struct.pack("<BBHQ", 5, 12, 0, 0xfed00000)])}))
write("acpi", "no-madt", acpi_input(rsdp1(0x1100), {
    0x100: sdt_table(b"RSDT", struct.pack("<I", 0x1300)),
    0x300: sdt_table(b"FACP", b"\0" * 80)}))
write("acpi", "entry-past-end", acpi_input(rsdp1(0x1100), {
    0x100: sdt_table(b"RSDT", struct.pack("<I", 0x1400)),
    0x400: madt(LAPIC + [struct.pack("<BB", 0, 9)])}))

# ---- ELF64 executables (kernel/elf.h), linked at 4 MiB ----

PF_X, PF_W, PF_R = 1, 2, 4
PT_LOAD, PT_INTERP, PT_GNU_STACK = 1, 3, 0x6474E551


def elf(phdrs, entry=0x401000, data_len=0x200, etype=2):
    """phdrs: (type, flags, offset, vaddr, filesz, memsz)."""
    phoff = 64
    eh = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    eh += struct.pack("<HHIQQQIHHHHHH", etype, 62, 1, entry, phoff, 0, 0,
                      64, 56, len(phdrs), 64, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", t, f, off, va, va, fs, ms, 0x1000)
                  for t, f, off, va, fs, ms in phdrs)
    img = eh + ph
    return img + bytes((i * 7) & 0xFF for i in range(data_len))


TEXT = (PT_LOAD, PF_R | PF_X, 0x100, 0x401000, 0x80, 0x80)
DATA = (PT_LOAD, PF_R | PF_W, 0x180, 0x402000, 0x40, 0x3000)
STACK = (PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0)

write("elf", "static", elf([TEXT, DATA, STACK]))
write("elf", "text-only", elf([TEXT]))
write("elf", "eight-segments", elf(
    [(PT_LOAD, PF_R | (PF_X if i == 0 else 0), 0x100, 0x401000 + i * 0x2000, 0x20, 0x1000)
     for i in range(8)]))
write("elf", "nine-segments", elf(
    [(PT_LOAD, PF_R | PF_X, 0x100, 0x401000 + i * 0x2000, 0x20, 0x1000) for i in range(9)]))
write("elf", "wx", elf([(PT_LOAD, PF_R | PF_W | PF_X, 0x100, 0x401000, 0x80, 0x80)]))
write("elf", "shared-page", elf([TEXT, (PT_LOAD, PF_R | PF_W, 0x180, 0x401800, 0x40, 0x40)]))
write("elf", "interp", elf([(PT_INTERP, PF_R, 0x100, 0, 0x10, 0x10), TEXT]))
write("elf", "entry-in-data", elf([TEXT, DATA], entry=0x402000))
write("elf", "past-window", elf([TEXT, (PT_LOAD, PF_R, 0x180, 0x3FFFF000, 0x40, 0x2000)]))
write("elf", "file-short", elf([TEXT, (PT_LOAD, PF_R, 0x180, 0x404000, 0x400, 0x400)]))
write("elf", "pie", elf([TEXT], etype=3))

# ---- grant tables and a request (fuzz_grant.c's decoder) ----

U, V, R, W, IND = 1, 2, 4, 8, 16


def val(v):
    if v < 64:
        return bytes([v << 2])
    if v < 0x10000:
        return bytes([1]) + struct.pack("<H", v)
    if v >= (1 << 64) - 64:
        return bytes([((2**64 - 1 - v) << 2) | 2])
    return bytes([3]) + struct.pack("<Q", v)


def gid(index, gen):
    return val(index) + val(gen)


def entry(flags, gen, grantee, src_pid=0, addr=0, length=0, src_index=0, src_gen=0):
    return (bytes([flags]) + val(gen) + bytes([grantee, src_pid]) + val(addr) + val(length)
            + gid(src_index, src_gen))


def proc(pid, entries, unreadable=False):
    return bytes([pid, len(entries), 0x0F if unreadable else 0]) + b"".join(entries)


def grant(caller, granter, index, gen, offset, length, access, procs):
    """access: 0 read, 1 write, 2 both."""
    return (bytes([caller, granter]) + gid(index, gen) + val(offset) + val(length)
            + bytes([access, len(procs)]) + b"".join(procs))


FREE = entry(0, 0, 0)
write("grant", "direct", grant(1, 2, 1, 3, 0x10, 0x20, 0, [
    proc(2, [FREE, entry(U | V | R, 3, 1, addr=0x1000, length=0x100)]),
    proc(1, [FREE])]))
write("grant", "indirect", grant(1, 2, 0, 0, 0x8, 0x10, 1, [
    proc(2, [entry(U | V | R | W | IND, 0, 1, src_pid=3, addr=0x40, length=0x80, src_index=2, src_gen=5)]),
    proc(3, [FREE, FREE, entry(U | V | R | W, 5, 2, addr=0x7000, length=0x1000)])]))
# Four links (the most followed) and then one more: the limit and a loop.
chain = [proc(p, [entry(U | V | R | IND, 0, p - 1, src_pid=p + 1, addr=1, length=0x100)])
         for p in range(2, 6)] + [proc(6, [entry(U | V | R, 0, 5, addr=0x3000, length=0x100)])]
write("grant", "chain-max", grant(1, 2, 0, 0, 0, 8, 0, chain))
write("grant", "loop", grant(1, 2, 0, 0, 0, 8, 0, [
    proc(2, [entry(U | V | R | IND, 0, 1, src_pid=3, length=0x100), entry(U | V | R | IND, 0, 3, src_pid=3, length=0x100)]),
    proc(3, [entry(U | V | R | IND, 0, 2, src_pid=2, src_index=1, length=0x100)])]))
write("grant", "addr-top", grant(1, 2, 0, 0, 0xF, 1, 0, [
    proc(2, [entry(U | V | R, 0, 1, addr=2**64 - 16, length=0x100)])]))
# Accepted today: the start is checked against 2^64, the end is not (grant.c
# then refuses any address past USER_TOP).
write("grant", "end-past-top", grant(1, 2, 0, 0, 0, 0x20, 0, [
    proc(2, [entry(U | V | R, 0, 1, addr=2**64 - 16, length=0x100)])]))
write("grant", "range-overflow", grant(1, 2, 0, 0, 0x80, 2**64 - 0x70, 0, [
    proc(2, [entry(U | V | R, 0, 1, addr=0x1000, length=0x100)])]))
write("grant", "unreadable", grant(1, 2, 0, 0, 0, 1, 0, [
    proc(2, [entry(U | V | R, 0, 1, addr=0x1000, length=0x100)], unreadable=True)]))
write("grant", "stale-access", grant(1, 2, 0, 1, 0, 1, 1, [
    proc(2, [entry(U | V | R, 0, 1, addr=0x1000, length=0x100)])]))

# ---- PCI config space (fuzz_pci.c's layout) ----


class Cfg:
    """One function's config space, BAR masks and hostile BAR answers."""

    def __init__(self, vendor=0x1AF4, device=0x1042, header=0):
        self.b = bytearray(256)
        self.wmask = [0] * 6
        self.answer = [0] * 6
        self.put(0, struct.pack("<HH", vendor, device))
        self.b[0x0E] = header

    def put(self, off, data):
        self.b[off:off + len(data)] = data

    def bar(self, i, base, size, kind="mem32", prefetch=False):
        mask = (2**64 - size) & (2**64 - 1)
        if kind == "io":
            self.put(0x10 + 4 * i, struct.pack("<I", base | 1))
            self.wmask[i] = mask & 0xFFFC
        elif kind == "mem32":
            self.put(0x10 + 4 * i, struct.pack("<I", base | (8 if prefetch else 0)))
            self.wmask[i] = mask & 0xFFFFFFF0
        else:
            self.put(0x10 + 4 * i, struct.pack("<II", (base & 0xFFFFFFFF) | 4 | (8 if prefetch else 0), base >> 32))
            self.wmask[i] = mask & 0xFFFFFFF0
            self.wmask[i + 1] = mask >> 32

    def caps(self, first):
        self.b[0x06] |= 0x10
        self.b[0x34] = first

    def cap(self, off, cid, nxt, body=b""):
        self.put(off, bytes([cid, nxt]) + body)

    def vcap(self, off, nxt, cap_len, cfg_type, bar, offset, length, mult=None):
        body = bytes([cap_len, cfg_type, bar, 0, 0, 0]) + struct.pack("<II", offset, length)
        if mult is not None:
            body += struct.pack("<I", mult)
        self.cap(off, 0x09, nxt, body)

    def data(self, more=()):
        """more: (bus, dev, fn, header type, secondary bus) of extra functions."""
        out = bytes(self.b) + struct.pack("<6I", *self.wmask) + struct.pack("<6I", *self.answer)
        for bus, dev, fn, header, sec in more:
            out += bytes([bus, dev << 3 | fn, header, sec])
        return out


def virtio_blk():
    c = Cfg()
    c.put(0x04, struct.pack("<H", 0x0007))
    c.put(0x08, struct.pack("<I", 0x01000001))
    c.put(0x2C, struct.pack("<HH", 0x1AF4, 0x1100))
    c.put(0x3C, bytes([11, 1]))
    c.bar(1, 0xFEBF1000, 0x1000)
    c.bar(4, 0xFE000000, 0x4000, kind="mem64", prefetch=True)
    c.caps(0x98)
    c.cap(0x98, 0x11, 0x84, bytes([1, 0, 1, 0, 0, 0, 1, 8, 0, 0]))
    c.vcap(0x84, 0x70, 20, 5, 0, 0, 0, 0)
    c.vcap(0x70, 0x60, 20, 2, 4, 0x3000, 0x1000, 4)
    c.vcap(0x60, 0x50, 16, 4, 4, 0x2000, 0x1000)
    c.vcap(0x50, 0x40, 16, 3, 4, 0x1000, 0x1000)
    c.vcap(0x40, 0x00, 16, 1, 4, 0x0000, 0x1000)
    return c


write("pci", "virtio-blk", virtio_blk().data())
c = virtio_blk()
c.b[0x41] = 0x98  # the last capability points back to the first
write("pci", "cap-loop", c.data())
c = virtio_blk()
c.caps(0xF0)
c.vcap(0xF0, 0x98, 20, 2, 4, 0x3000, 0x1000)  # runs off the end of config space
write("pci", "cap-at-end", c.data())
c = virtio_blk()
c.vcap(0x40, 0x00, 16, 1, 4, 0xFFFFFFF0, 0x20)  # offset + length wraps
c.vcap(0x70, 0x60, 20, 2, 6, 0x3000, 0x1000, 3)  # no BAR 6, odd multiplier
write("pci", "virtio-bad-regions", c.data())
c = virtio_blk()
c.answer[4] = 0xFFFF0004  # answers a size its base is not aligned to
c.wmask[1] = 0xFF0FF000   # a hole in the mask
write("pci", "bars-hostile", c.data())
c = Cfg(0x8086, 0x1234)
c.bar(0, 0xC000, 0x100, kind="io")
c.bar(5, 0xFE000000, 0x1000, kind="mem32")
c.put(0x14, struct.pack("<I", 0xFE000004))  # a 64-bit BAR in slot 1 ...
c.bar(2, 0x800000000, 0x100000000, kind="mem64")
write("pci", "bars-kinds", c.data())
# Bridges: bus 0 -> 1 -> 0 (a loop) and one to itself; a multi-function device.
c = virtio_blk()
write("pci", "bridges", c.data([(0, 4, 0, 1, 1), (1, 0, 0, 1, 0), (1, 1, 0, 1, 1),
                                (1, 2, 0, 0x80, 0), (1, 2, 3, 0, 0), (0, 7, 1, 0, 0)]))

# ---- virtio-blk device and driver steps (fuzz_virtq.c's layout) ----


def vdev(features=0, qmax=256, blk_shift=9, seg_max=254, size_max=0, cap=512, notify_off=0,
         mult_shift=2, flips=0, reset_delay=0, layout=0, slots=3, request_kib=63):
    return (bytes([features]) + struct.pack("<H", qmax)
            + bytes([blk_shift, seg_max, size_max]) + struct.pack("<H", cap)
            + bytes([notify_off, mult_shift, flips, reset_delay, layout, slots, request_kib]))


def rd(first, count):
    return bytes([0]) + struct.pack("<H", first) + bytes([count - 1])


def wr(first, count):
    return bytes([1]) + struct.pack("<H", first) + bytes([count - 1])


FLUSH, GETID, KICK, POP, POLL, RESTART = b"\x02", b"\x03", b"\x04", b"\x05", b"\x0d", b"\x0e"
NEEDS_RESET = b"\x0a"


def complete(i):
    return bytes([6, i])


def used(id_, length, step):
    if step > 3:
        return bytes([7]) + struct.pack("<HH", id_, length) + bytes([7]) + struct.pack("<H", step)
    return bytes([7]) + struct.pack("<HH", id_, length) + bytes([0, step])


def status(s):
    return bytes([8, 0, s + 1])  # 0 would mean "honest"


def len_delta(d):
    return bytes([9, d & 0xFF])


def capacity(c):
    return bytes([11]) + struct.pack("<H", c)


def irq(most=15):
    return bytes([12, most])


def scribble(v):
    return bytes([15, v])


IO = b"".join(r + KICK + irq() for r in (rd(0, 1), wr(8, 16), FLUSH, GETID, rd(8, 16)))
write("virtq", "healthy", vdev() + IO + rd(511, 1) + rd(511, 2) + KICK + irq())
write("virtq", "parallel-out-of-order", vdev(features=32) + rd(0, 8) + rd(64, 8) + wr(128, 8)
      + rd(192, 64) + KICK + complete(3) + complete(0) + irq(1) + POLL + complete(1) + irq()
      + rd(0, 1) + KICK + complete(0) + complete(0) + irq())
write("virtq", "used-idx-jump", vdev(features=32) + rd(0, 8) + rd(8, 8) + KICK + POP
      + used(0, 4097, 1000) + irq() + rd(0, 1) + KICK + complete(0) + irq())
write("virtq", "used-id-bad", vdev(features=32) + rd(0, 8) + rd(8, 8) + KICK + POP
      + used(1, 1, 1) + irq() + rd(0, 1) + KICK + POP + used(300, 1, 1) + irq()
      + rd(0, 1) + KICK + POP + used(0xFFFF, 1, 1) + irq())
write("virtq", "used-duplicate", vdev(features=32) + rd(0, 8) + rd(8, 8) + KICK + complete(0)
      + used(0, 4097, 1) + irq())
write("virtq", "lengths-status", vdev() + len_delta(100) + IO + len_delta(-1) + IO + len_delta(0)
      + status(1) + IO + status(2) + IO + status(0x54) + IO + bytes([8, 5]) + IO)
write("virtq", "needs-reset-config", vdev(features=32) + wr(0, 4) + KICK + POP + NEEDS_RESET
      + irq() + capacity(100) + irq() + rd(99, 2) + KICK + complete(0) + irq())
write("virtq", "scribble", vdev(features=32) + rd(0, 8) + rd(8, 8) + KICK + scribble(0xFF)
      + complete(1) + complete(0) + irq() + IO + IO)
write("virtq", "small-queue-pages", vdev(qmax=4, layout=1, slots=15, request_kib=31) + IO + IO)
write("virtq", "seg-limits", vdev(features=4, seg_max=3, size_max=16, layout=2) + IO)
write("virtq", "blk-size-4k", vdev(blk_shift=12, cap=64) + IO + rd(7, 1) + KICK + irq())
write("virtq", "restart-slow-reset", vdev(features=32, reset_delay=50, flips=3) + rd(0, 4)
      + KICK + RESTART + POLL + IO)
write("virtq", "no-version-1", vdev(features=16) + IO)
write("virtq", "features-refused", vdev(features=0xE0) + IO)
write("virtq", "read-only-no-flush", vdev(features=3) + IO)

# ---- tiny FAT32 volumes and operation scripts (fuzz_fat.c) ----

PATHS = ["/", "/a", "/a/b", "/A/B/c.txt", "/LONG FILE NAME.txt", "/a/x.bin", "/sub",
         "/sub/deeper", "/caf\u00e9", "/new file with a long name", "/x", "/a/b/ren"]
P = {p: i for i, p in enumerate(PATHS)}
O_CREATE, O_EXCL, O_TRUNC, O_DIR = 1, 2, 4, 8


def lfn_checksum(sfn):
    s = 0
    for b in sfn:
        s = (((s & 1) << 7) + (s >> 1) + b) & 0xFF
    return s


def short_name(name, taken):
    """An 8.3 alias: the name itself if it is one, else BASE~N.EXT."""
    base, _, ext = name.rpartition(".") if "." in name[1:] else (name, "", "")
    ok = lambda s, n: 0 < len(s) <= n and all(c.isalnum() or c in "_-~" for c in s) and s.isascii()
    if ok(base, 8) and (not ext or ok(ext, 3)) and name == name.upper():
        sfn = base.ljust(8).encode() + ext.ljust(3).encode()
        taken.add(sfn)
        return sfn, False
    clean = lambda s: "".join(c if c.isascii() and c.isalnum() else "_" for c in s.upper())
    b, e = clean(base.replace(" ", "")), clean(ext)[:3]
    n = 1
    while True:
        sfn = (b[:8 - len(str(n)) - 1] + "~" + str(n)).ljust(8).encode() + e.ljust(3).encode()
        if sfn not in taken:
            taken.add(sfn)
            return sfn, True
        n += 1


def dir_entry(sfn, attr, cluster, size):
    # times: 2024-05-06 07:08:10
    t, d = (7 << 11) | (8 << 5) | 5, ((2024 - 1980) << 9) | (5 << 5) | 6
    return sfn + struct.pack("<BBBHHHHHHHI", attr, 0, 0, t, d, d, cluster >> 16, t, d,
                             cluster & 0xFFFF, size)


def lfn_entries(name, sfn):
    units = list(name.encode("utf-16-le"))
    u = [units[i] | units[i + 1] << 8 for i in range(0, len(units), 2)]
    n = (len(u) + 12) // 13
    u += [0] + [0xFFFF] * (n * 13 - len(u) - 1) if len(u) % 13 else []
    out, chk = b"", lfn_checksum(sfn)
    for k in range(n, 0, -1):
        part = u[(k - 1) * 13:k * 13]
        out += struct.pack("<B5HBBB6HH2H", k | (0x40 if k == n else 0), *part[:5], 0x0F, 0, chk,
                           *part[5:11], 0, *part[11:13])
    return out


class Volume:
    def __init__(self, bps=512, spc=1, reserved=2, nfats=2, clusters=100):
        self.bps, self.spc, self.reserved, self.nfats, self.clusters = bps, spc, reserved, nfats, clusters
        self.fatsz = ((clusters + 2) * 4 + bps - 1) // bps
        self.fat = [0] * (clusters + 2)
        self.fat[0], self.fat[1] = 0x0FFFFFF8, 0x0FFFFFFF
        self.data = {}  # cluster -> bytes
        self.next = 2

    def alloc(self, n):
        first = self.next
        for i in range(n):
            self.fat[first + i] = first + i + 1 if i + 1 < n else 0x0FFFFFFF
        self.next += n
        return first

    def cb(self):
        return self.bps * self.spc

    def put(self, first, content):
        for i in range(0, max(len(content), 1), self.cb()):
            c = first + i // self.cb()
            self.data[c] = content[i:i + self.cb()]

    def tree(self, spec, cluster=None, parent=0):
        """spec: {name: bytes | dict}; returns the directory's first cluster."""
        taken, body = set(), b""
        ents = []
        for name, val in spec.items():
            sfn, lfn = short_name(name, taken)
            ents.append((name, sfn, lfn, val))
        need = 2 + sum(1 + (((len(n.encode('utf-16-le')) // 2) + 12) // 13 if l else 0)
                       for n, s, l, v in ents)
        nclu = max(1, (need * 32 + self.cb() - 1) // self.cb())
        if cluster is None:
            cluster = self.alloc(nclu)
            body = dir_entry(b".          ", 0x10, cluster, 0)
            body += dir_entry(b"..         ", 0x10, 0 if parent == 2 else parent, 0)
        else:
            cluster = self.alloc(nclu)
        for name, sfn, lfn, val in ents:
            if lfn:
                body += lfn_entries(name, sfn)
            if isinstance(val, dict):
                sub = self.tree(val, None, cluster)
                body += dir_entry(sfn, 0x10, sub, 0)
            else:
                first = self.alloc((len(val) + self.cb() - 1) // self.cb()) if val else 0
                if val:
                    self.put(first, val)
                body += dir_entry(sfn, 0x20, first, len(val))
        self.put(cluster, body.ljust(nclu * self.cb(), b"\0"))
        return cluster

    def image(self, dirty=False):
        bps, total = self.bps, self.reserved + self.nfats * self.fatsz + self.clusters * self.spc
        boot = b"\xEB\x58\x90GRANITE " + struct.pack("<HBHBHHBHHHII", bps, self.spc, self.reserved,
                                                      self.nfats, 0, 0, 0xF8, 0, 32, 2, 0, total)
        boot += struct.pack("<IHHIHH12sBBBI11s8s", self.fatsz, 0, 0, 2, 1 if self.reserved > 1 else 0,
                            0, b"", 0x80, 0, 0x29, 0x6772616E, b"NO NAME    ", b"FAT32   ")
        boot = boot.ljust(510, b"\0") + b"\x55\xAA"
        img = bytearray(total * bps)
        img[:512] = boot
        if self.reserved > 1:
            fsinfo = struct.pack("<I480xII", 0x41615252, 0x61417272, self.fat.count(0))
            fsinfo += struct.pack("<I12xI", self.next, 0xAA550000)
            img[bps:bps + 512] = fsinfo
        fat = list(self.fat)
        if dirty:
            fat[1] &= ~0x08000000
        raw = struct.pack("<%dI" % len(fat), *fat)
        for k in range(self.nfats):
            off = (self.reserved + k * self.fatsz) * bps
            img[off:off + len(raw)] = raw
        data = (self.reserved + self.nfats * self.fatsz) * bps
        for c, content in self.data.items():
            off = data + (c - 2) * self.cb()
            img[off:off + len(content)] = content
        return bytes(img).rstrip(b"\0")


def fat_input(flags, script, img, vol=None, name=None):
    assert len(script) <= 255
    if IMAGES and vol is not None:
        size = (vol.reserved + vol.nfats * vol.fatsz + vol.clusters * vol.spc) * vol.bps
        with open(os.path.join(IMAGES, name + ".img"), "wb") as f:
            f.write(img.ljust(size, b"\0"))
    return bytes([flags, len(script)]) + bytes(script) + img


def op_open(slot, flags, path):
    return [0, slot, flags, P[path]]


def op_rw(op, slot, off, length, mult=0):
    return [op, slot, off & 0xFF, off >> 8, mult, length & 0xFF, length >> 8]


TREE = {
    "a": {"x.bin": bytes(range(256)) * 3, "b": {"c.txt": b"hello, granite\n"}},
    "LONG FILE NAME.txt": b"long name " * 70,
    "sub": {"deeper": {}},
    "caf\u00e9": b"\xc3\xa9" * 40,
    "README.TXT": b"",
}

SCRIPT_RW = (op_open(0, O_CREATE, "/new file with a long name") + op_rw(3, 0, 0, 1500)
             + op_rw(2, 0, 100, 700) + [4, 0, 0x20, 0, 0] + op_open(1, 0, "/a/x.bin")
             + op_rw(3, 1, 500, 900) + [11, 0] + [1, 0] + [6, 2] + op_open(2, O_DIR, "/a")
             + [6, 2] + [5, 1] + [5, 0, P["/LONG FILE NAME.txt"]] + [14, 0])
SCRIPT_NS = ([7, 0, P["/x"]] + [10, 0, P["/x"], P["/a/b/ren"]] + [10, 0, P["/a"], P["/a/b/ren"]]
             + [9, 0, P["/caf\u00e9"]] + [8, 0, P["/sub/deeper"]] + [8, 0, P["/sub"]]
             + [10, 0, P["/LONG FILE NAME.txt"], P["/x"]] + [13, 0] + [6, 0]
             + op_open(0, 0, "/x") + op_rw(15, 0, 0, 0, 1) + [12, 0] + [4, 0, 0, 0, 0] + [9, 0, P["/x"]])

def volume(tree, **kw):
    vol = Volume(**kw)
    vol.next = 2
    root_spec = dict(tree)
    # the root: no "." or "..", first cluster 2
    taken, ents = set(), []
    vol.alloc(1)
    body = b""
    for name, val in root_spec.items():
        sfn, lfn = short_name(name, taken)
        if lfn:
            body += lfn_entries(name, sfn)
        if isinstance(val, dict):
            body += dir_entry(sfn, 0x10, vol.tree(val, None, 2), 0)
        else:
            first = vol.alloc((len(val) + vol.cb() - 1) // vol.cb()) if val else 0
            if val:
                vol.put(first, val)
            body += dir_entry(sfn, 0x20, first, len(val))
    assert len(body) <= vol.cb()
    vol.put(2, body)
    return vol


clean = volume(TREE)
write("fat", "rw-checked", fat_input(1, SCRIPT_RW, clean.image(), clean, "clean"))
write("fat", "rw-plain", fat_input(0, SCRIPT_RW, clean.image()))
write("fat", "namespace", fat_input(1, SCRIPT_NS, clean.image()))
write("fat", "read-only", fat_input(2, SCRIPT_RW, clean.image()))
write("fat", "tiny-cache", fat_input(5, SCRIPT_NS + SCRIPT_RW[:60], clean.image()))
SMALL = {"a": {"x.bin": b"4096-byte sectors" * 20}, "LONG FILE NAME.txt": b"x" * 100}
v4k = volume(SMALL, bps=4096, nfats=1, clusters=40)
write("fat", "sectors-4096", fat_input(1 | 8 | 16, SCRIPT_RW, v4k.image(), v4k, "sectors-4096"))
vbig = volume(SMALL, spc=8, nfats=1, clusters=60)
write("fat", "one-fat-big-clusters", fat_input(1, SCRIPT_NS, vbig.image(), vbig, "big-clusters"))
# What a crash leaves, under the dirty mark: a chain longer than its size,
# a lost chain, an orphan long-name run, a stale "..", FAT copies that differ.
crashed = volume(TREE)
lost = crashed.alloc(3)
crashed.put(lost, b"lost data" * 100)
first_file = [c for c in crashed.data if crashed.data[c].startswith(b"long name")][0]
crashed.fat[first_file + 1] = lost  # the 700-byte file's chain runs on
img = bytearray(crashed.image(dirty=True))
fat2 = (crashed.reserved + crashed.fatsz) * crashed.bps
img[fat2 + 4 * 50:fat2 + 4 * 51] = struct.pack("<I", 0x0FFFFFFF)
write("fat", "after-a-crash", fat_input(0, SCRIPT_RW, bytes(img)))
write("fat", "after-a-crash-checked", fat_input(1, SCRIPT_NS, bytes(img)))
