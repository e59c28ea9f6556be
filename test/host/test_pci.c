/*
 * Host tests for the PCI bus server's pure part (servers/pci): header
 * parsing, BAR sizing, the capability walk, virtio capabilities and bus
 * enumeration against a fake config space (pci_model.h), hostile config
 * spaces included, and a seeded mutation loop over a QEMU-like device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "hostlib.h"
#include "pci.h"
#include "pci_model.h"
#include "virtio_pci.h"

static struct pci_model model;
static struct pci_config_ops io;

static int setup(void **state)
{
    (void)state;
    memset(&model, 0, sizeof(model));
    model.status_rw1c = 0xf900; /* parity, SERR, aborts, detected parity error */
    io = pm_ops(&model);
    return 0;
}

static struct pci_dev header(struct pm_fn *f)
{
    struct pci_dev d;
    assert_int_equal(pci_read_header(&io, f->addr, &d), 0);
    return d;
}

/* ---- header ---- */

static void test_header_virtio_blk(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    struct pci_dev d = header(f);
    assert_int_equal(d.vendor, 0x1af4);
    assert_int_equal(d.device, 0x1042);
    assert_int_equal(d.class_code, 0x01);
    assert_int_equal(d.subclass, 0x00);
    assert_int_equal(d.revision, 1);
    assert_int_equal(d.header_type, PCI_HDR_DEVICE);
    assert_false(d.multifunction);
    assert_int_equal(d.subsys_vendor, 0x1af4);
    assert_int_equal(d.subsys_id, 0x1100);
    assert_int_equal(d.irq_line, 11);
    assert_int_equal(d.irq_pin, 1);
    assert_int_equal(d.cap_ptr, 0x98);
    assert_int_equal(virtio_pci_device_type(&d), VIRTIO_ID_BLOCK);
    assert_int_equal(model.bad, 0);
}

static void test_header_absent(void **state)
{
    (void)state;
    struct pci_dev d;
    assert_int_equal(pci_read_header(&io, (struct pci_addr){0, 5, 0}, &d), -E_NOENT);
    pm_add(&model, 0, 6, 0, 0x0000, 0x1234, 0);
    assert_int_equal(pci_read_header(&io, (struct pci_addr){0, 6, 0}, &d), -E_NOENT);
}

static void test_header_odd_values(void **state)
{
    (void)state;
    /* Pin 7 is no pin; a cap pointer with low bits set is masked; no list
     * without the status bit; CardBus headers are not looked into. */
    struct pm_fn *f = pm_add(&model, 0, 1, 0, 0x8086, 0x1234, PCI_HDR_DEVICE | PCI_HDR_MULTIFN);
    f->cfg[PCI_INTERRUPT + 1] = 7;
    f->cfg[PCI_CAP_PTR] = 0x43;
    struct pci_dev d = header(f);
    assert_true(d.multifunction);
    assert_int_equal(d.irq_pin, 0);
    assert_int_equal(d.cap_ptr, 0);
    f->cfg[PCI_COMMAND + 2] |= PCI_STATUS_CAPS;
    assert_int_equal(header(f).cap_ptr, 0x40);
    f->cfg[PCI_HEADER_DW + 2] = 2;
    d = header(f);
    assert_int_equal(d.header_type, 2);
    assert_int_equal(d.cap_ptr, 0);
    struct pci_bar bars[PCI_BARS];
    assert_int_equal(pci_size_bars(&io, &d, bars), 0);
    assert_int_equal(model.writes, 0);
}

static void test_cfg_read_widths(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    assert_int_equal(pci_cfg_read16(&io, f->addr, 2), 0x1042);
    assert_int_equal(pci_cfg_read8(&io, f->addr, 0x3d), 1);
    assert_int_equal(pci_cfg_read8(&io, f->addr, 255), f->cfg[255]);
    assert_int_equal(pci_cfg_read8(&io, f->addr, 256), 0xff);
    assert_int_equal(pci_cfg_read16(&io, f->addr, 255), 0xffff);
    assert_int_equal(pci_cfg_read16(&io, f->addr, 3), 0xffff);
    assert_int_equal(pci_cfg_read32(&io, f->addr, 253), 0xffffffffu);
    assert_int_equal(pci_cfg_read32(&io, f->addr, 2), 0xffffffffu);
    assert_int_equal(model.bad, 0);
}

/* ---- BARs ---- */

static void test_bars_virtio_blk(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    f->cfg[PCI_COMMAND + 3] |= 0x80; /* a pending parity error, write-one-to-clear */
    uint8_t before[PCI_CFG_SIZE];
    memcpy(before, f->cfg, sizeof(before));
    struct pci_dev d = header(f);
    struct pci_bar bars[PCI_BARS];
    assert_int_equal(pci_size_bars(&io, &d, bars), 2);
    assert_int_equal(bars[0].kind, PCI_BAR_NONE);
    assert_int_equal(bars[1].kind, PCI_BAR_MEM32);
    assert_int_equal(bars[1].base, PM_BAR1_BASE);
    assert_int_equal(bars[1].size, 0x1000);
    assert_false(bars[1].prefetchable);
    assert_int_equal(bars[4].kind, PCI_BAR_MEM64);
    assert_int_equal(bars[4].base, PM_BAR4_BASE);
    assert_int_equal(bars[4].size, 0x4000);
    assert_true(bars[4].prefetchable);
    assert_int_equal(bars[5].kind, PCI_BAR_UPPER);
    /* Everything put back, decoding was off while probing, no error bit lost. */
    assert_memory_equal(before, f->cfg, sizeof(before));
    assert_int_equal(model.decoding, 0);
    assert_int_equal(model.cleared, 0);
    assert_int_equal(model.bad, 0);
}

static void test_bars_kinds(void **state)
{
    (void)state;
    struct pm_fn *f = pm_add(&model, 0, 2, 0, 0x10ec, 0x8139, PCI_HDR_DEVICE);
    pm_bar(f, 0, PCI_BAR_IO, 0xc000, 0x100, false);
    pm_bar(f, 1, PCI_BAR_MEM32, 0xfebf0000, 0x100, false);             /* 256 bytes: fine */
    pm_bar(f, 2, PCI_BAR_MEM64, 0x800000000ull, 0x100000000ull, true); /* 4 GiB above 32 GiB */
    pm_bar(f, 5, PCI_BAR_MEM64, 0xfe000000, 0x1000, false);            /* 64-bit in the last BAR */
    struct pci_dev d = header(f);
    struct pci_bar bars[PCI_BARS];
    assert_int_equal(pci_size_bars(&io, &d, bars), 3);
    assert_int_equal(bars[0].kind, PCI_BAR_IO);
    assert_int_equal(bars[0].base, 0xc000);
    assert_int_equal(bars[0].size, 0x100);
    assert_int_equal(bars[1].kind, PCI_BAR_MEM32);
    assert_int_equal(bars[1].size, 0x100);
    assert_int_equal(bars[2].kind, PCI_BAR_MEM64);
    assert_int_equal(bars[2].base, 0x800000000ull);
    assert_int_equal(bars[2].size, 0x100000000ull);
    assert_int_equal(bars[3].kind, PCI_BAR_UPPER);
    assert_int_equal(bars[4].kind, PCI_BAR_NONE);
    assert_int_equal(bars[5].kind, PCI_BAR_NONE); /* no upper half to go with it */
}

static void test_bars_hostile(void **state)
{
    (void)state;
    struct pm_fn *f = pm_add(&model, 0, 2, 0, 0x1234, 0x5678, PCI_HDR_DEVICE);
    pm_put32(f, PCI_BAR0, 0xfe001000); /* base not aligned to the size it answers */
    f->bar_answer[0] = 0xffffe000;
    pm_put32(f, PCI_BAR0 + 4, 0xfe000000); /* mask with a hole */
    f->bar_wmask[1] = 0xff0ff000;
    pm_put32(f, PCI_BAR0 + 8, 0xfe000002); /* type 1: below 1 MiB, reserved */
    f->bar_wmask[2] = 0xfffff000;
    pm_put32(f, PCI_BAR0 + 12, 0xfe000006); /* type 3: reserved */
    f->bar_wmask[3] = 0xfffff000;
    pm_put32(f, PCI_BAR0 + 16, 0xfffff001); /* I/O past 64 KiB */
    f->bar_wmask[4] = 0xfffffffc;
    pm_bar(f, 5, PCI_BAR_MEM32, 0, 0x1000, false);
    f->bar_wmask[5] = 0; /* not implemented: answers 0 */
    struct pci_dev d = header(f);
    struct pci_bar bars[PCI_BARS];
    assert_int_equal(pci_size_bars(&io, &d, bars), 0);
    for (int i = 0; i < PCI_BARS; i++)
        assert_int_equal(bars[i].kind, PCI_BAR_NONE);

    /* A 64-bit BAR whose upper half does not answer, and one that wraps. */
    struct pm_fn *g = pm_add(&model, 0, 4, 0, 0x1234, 0x5679, PCI_HDR_DEVICE);
    pm_bar(g, 0, PCI_BAR_MEM64, 0xfe000000, 0x1000, false);
    g->bar_wmask[1] = 0;
    pm_put32(g, PCI_BAR0 + 8, 0xfffff004);
    pm_put32(g, PCI_BAR0 + 12, 0xffffffff);
    g->bar_answer[2] = 0xffffe004; /* 8 KiB at 2^64 - 4 KiB: misaligned and wrapping */
    g->bar_wmask[3] = 0xffffffff;
    d = header(g);
    assert_int_equal(pci_size_bars(&io, &d, bars), 0);
    assert_int_equal(bars[1].kind, PCI_BAR_UPPER);
    assert_int_equal(bars[3].kind, PCI_BAR_UPPER);
    assert_int_equal(model.bad, 0);
}

static void test_bars_bridge(void **state)
{
    (void)state;
    struct pm_fn *f = pm_add(&model, 0, 1, 0, 0x8086, 0x244e, PCI_HDR_BRIDGE);
    pm_bar(f, 0, PCI_BAR_MEM32, 0xfd000000, 0x1000, false);
    pm_bar(f, 1, PCI_BAR_MEM32, 0xfd001000, 0x1000, false);
    f->bar_wmask[2] = 0xffffffff; /* bus numbers: must not be probed */
    pm_put32(f, PCI_BUS_NUMBERS, 0x00020100);
    struct pci_dev d = header(f);
    assert_int_equal(d.secondary_bus, 1);
    struct pci_bar bars[PCI_BARS];
    assert_int_equal(pci_size_bars(&io, &d, bars), 2);
    assert_int_equal(pm_get32(f, PCI_BUS_NUMBERS), 0x00020100);
    assert_int_equal(bars[2].kind, PCI_BAR_NONE);
}

static void test_command(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    f->cfg[PCI_COMMAND + 3] |= 0x80;
    pci_command(&io, f->addr, PCI_CMD_BUS_MASTER | PCI_CMD_MEMORY, PCI_CMD_INTX_OFF | PCI_CMD_IO);
    assert_int_equal(pm_get32(f, PCI_COMMAND) & 0xffff, PCI_CMD_BUS_MASTER | PCI_CMD_MEMORY);
    assert_int_equal(model.cleared, 0);
    assert_true(f->cfg[PCI_COMMAND + 3] & 0x80);
}

/* ---- capability list ---- */

static void test_caps_walk(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    struct pci_dev d = header(f);
    struct pci_cap caps[PCI_MAX_CAPS];
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), 6);
    const uint8_t want[] = {0x98, 0x84, 0x70, 0x60, 0x50, 0x40};
    for (int i = 0; i < 6; i++)
        assert_int_equal(caps[i].off, want[i]);
    assert_int_equal(caps[0].id, PCI_CAP_ID_MSIX);
    assert_int_equal(caps[1].id, PCI_CAP_ID_VENDOR);
    assert_int_equal(pci_caps(&io, &d, caps, 5), -E_LIMIT);
    assert_int_equal(pci_caps(&io, &d, caps, 6), 6);
}

static void test_caps_hostile(void **state)
{
    (void)state;
    struct pm_fn *f = pm_add(&model, 0, 2, 0, 0x1234, 0x1, PCI_HDR_DEVICE);
    struct pci_cap caps[PCI_MAX_CAPS];
    pm_cap_list(f, 0x40);
    /* Pointing at itself. */
    pm_cap(f, 0x40, 0x05, 0x40, NULL, 0);
    struct pci_dev d = header(f);
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), -E_INVAL);
    /* A longer loop back to the start. */
    pm_cap(f, 0x40, 0x05, 0x80, NULL, 0);
    pm_cap(f, 0x80, 0x10, 0xfc, NULL, 0);
    pm_cap(f, 0xfc, 0x11, 0x40, NULL, 0);
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), -E_INVAL);
    /* Into the standard header. */
    pm_cap(f, 0xfc, 0x11, 0x3c, NULL, 0);
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), -E_INVAL);
    /* Low bits of a next pointer are reserved: 0x83 means 0x80, a loop. */
    pm_cap(f, 0xfc, 0x11, 0x83, NULL, 0);
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), -E_INVAL);
    /* Ending at the last dword is fine. */
    pm_cap(f, 0xfc, 0x11, 0x00, NULL, 0);
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), 3);
    assert_int_equal(caps[2].off, 0xfc);
    /* The longest list there can be: one in every dword. */
    for (unsigned off = 0x40; off <= 0xfc; off += 4)
        pm_cap(f, (uint8_t)off, 0x09, (uint8_t)(off == 0xfc ? 0 : off + 4), NULL, 0);
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), PCI_MAX_CAPS);
    /* Every dword visited, then back to one of them. */
    f->cfg[0xfd] = 0x90;
    assert_int_equal(pci_caps(&io, &d, caps, PCI_MAX_CAPS), -E_INVAL);
    assert_int_equal(model.bad, 0);
}

/* ---- virtio capabilities ---- */

static int find(struct pm_fn *f, struct virtio_pci_caps *c)
{
    struct pci_dev d = header(f);
    struct pci_bar bars[PCI_BARS];
    pci_size_bars(&io, &d, bars);
    return virtio_pci_find_caps(&io, &d, bars, c);
}

static void test_virtio_caps_qemu(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    struct virtio_pci_caps c;
    assert_int_equal(find(f, &c), 0);
    assert_true(c.common.present && c.notify.present && c.isr.present && c.device.present);
    assert_int_equal(c.common.bar, 4);
    assert_int_equal(c.common.offset, 0);
    assert_int_equal(c.common.length, 0x1000);
    assert_int_equal(c.isr.offset, 0x1000);
    assert_int_equal(c.device.offset, 0x2000);
    assert_int_equal(c.notify.offset, 0x3000);
    assert_int_equal(c.notify_off_multiplier, 4);
    assert_int_equal(c.pci_cfg_off, 0x84);
    assert_int_equal(c.msix_off, 0x98);
    assert_int_equal(c.skipped, 0);
}

static void test_virtio_device_types(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    struct pci_dev d = header(f);
    d.device = 0x1001; /* transitional: the type is in the subsystem id */
    d.subsys_id = 2;
    assert_int_equal(virtio_pci_device_type(&d), VIRTIO_ID_BLOCK);
    d.device = 0x1000 + 0x40; /* modern 0x1040: type 0, reserved */
    assert_int_equal(virtio_pci_device_type(&d), 0);
    d.device = 0x107f;
    assert_int_equal(virtio_pci_device_type(&d), 0x3f);
    d.device = 0x1080;
    assert_int_equal(virtio_pci_device_type(&d), 0);
    d.device = 0x1042;
    d.vendor = 0x8086;
    assert_int_equal(virtio_pci_device_type(&d), 0);
    d.vendor = 0x1af4;
    d.header_type = PCI_HDR_BRIDGE;
    assert_int_equal(virtio_pci_device_type(&d), 0);
}

/* Put a hostile common capability first in the list; the good one behind
 * it must win and the bad one be counted. */
static void bad_common_first(uint8_t cap_len, uint8_t bar, uint32_t offset, uint32_t length)
{
    setup(NULL);
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    pm_bar(f, 0, PCI_BAR_IO, 0xc000, 0x40, false);
    f->cfg[PCI_CAP_PTR] = 0xe0;
    pm_virtio_cap(f, 0xe0, 0x98, cap_len, 1, bar, offset, length, 0);
    struct virtio_pci_caps c;
    assert_int_equal(find(f, &c), 0);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.common.offset, 0);
    assert_int_equal(c.common.length, 0x1000);
}

static void test_virtio_caps_hostile(void **state)
{
    (void)state;
    bad_common_first(16, 6, 0, 0x100);            /* no such BAR */
    bad_common_first(16, 0xff, 0, 0x100);         /* no such BAR */
    bad_common_first(16, 0, 0, 0x38);             /* an I/O BAR */
    bad_common_first(16, 2, 0, 0x38);             /* an absent BAR */
    bad_common_first(16, 5, 0, 0x38);             /* the upper half of BAR 4 */
    bad_common_first(16, 4, 0x3fd0, 0x38);        /* past the end of BAR 4 */
    bad_common_first(16, 4, 0xfffffff0u, 0x20);   /* offset + length wraps 32 bits */
    bad_common_first(16, 4, 0x1000, 0xffffffffu); /* longer than the BAR */
    bad_common_first(16, 4, 0x2, 0x38);           /* misaligned */
    bad_common_first(16, 4, 0x0, 0x37);           /* shorter than the structure */
    bad_common_first(15, 4, 0x0, 0x38);           /* capability too short */
    bad_common_first(2, 4, 0x0, 0x38);            /* capability too short */
}

static void test_virtio_caps_notify(void **state)
{
    (void)state;
    const uint32_t mults[] = {1, 3, 6, 0x80000001u};
    for (unsigned i = 0; i < 4; i++) {
        setup(NULL);
        struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
        f->cfg[PCI_CAP_PTR] = 0xe0;
        pm_virtio_cap(f, 0xe0, 0x98, 20, 2, 4, 0x3000, 0x1000, mults[i]);
        struct virtio_pci_caps c;
        assert_int_equal(find(f, &c), 0);
        assert_int_equal(c.skipped, 1);
        assert_int_equal(c.notify_off_multiplier, 4);
    }
    /* A notify capability of 16 bytes has no multiplier: skipped. */
    setup(NULL);
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    f->cfg[PCI_CAP_PTR] = 0xe0;
    pm_virtio_cap(f, 0xe0, 0x98, 16, 2, 4, 0x3000, 0x1000, 0);
    struct virtio_pci_caps c;
    assert_int_equal(find(f, &c), 0);
    assert_int_equal(c.skipped, 1);
    /* Multiplier 0 (all queues share one address) and large powers of 2 are fine. */
    const uint32_t good[] = {0, 2, 0x1000, 0x80000000u};
    for (unsigned i = 0; i < 4; i++) {
        setup(NULL);
        f = pm_virtio_blk(&model, 0, 3);
        f->cfg[PCI_CAP_PTR] = 0xe0;
        pm_virtio_cap(f, 0xe0, 0x98, 20, 2, 4, 0x3000, 0x1000, good[i]);
        assert_int_equal(find(f, &c), 0);
        assert_int_equal(c.skipped, 0);
        assert_int_equal(c.notify_off_multiplier, good[i]);
    }
    /* A vendor capability in the last dword would read past config space. */
    setup(NULL);
    f = pm_virtio_blk(&model, 0, 3);
    f->cfg[PCI_CAP_PTR] = 0xf0;
    pm_virtio_cap(f, 0xf0, 0x98, 20, 2, 4, 0x3000, 0x1000, 8);
    assert_int_equal(find(f, &c), 0);
    assert_int_equal(c.skipped, 1);
    assert_int_equal(c.notify_off_multiplier, 4);
    assert_int_equal(model.bad, 0);
}

static void test_virtio_caps_missing(void **state)
{
    (void)state;
    struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
    struct virtio_pci_caps c;
    f->cfg[0x51] = 0x00; /* the list ends at the ISR: no common config */
    assert_int_equal(find(f, &c), -E_NOENT);
    assert_false(c.common.present);
    assert_true(c.isr.present);
    f->cfg[0x51] = 0x50; /* loops */
    assert_int_equal(find(f, &c), -E_INVAL);
    f->cfg[0x51] = 0x40;
    f->cfg[PCI_COMMAND + 2] &= (uint8_t)~PCI_STATUS_CAPS;
    assert_int_equal(find(f, &c), -E_NOENT);
    /* A structure type the driver does not know is ignored, not counted. */
    setup(NULL);
    f = pm_virtio_blk(&model, 0, 3);
    f->cfg[PCI_CAP_PTR] = 0xe0;
    pm_virtio_cap(f, 0xe0, 0x98, 16, 8, 4, 0, 0x100, 0);
    assert_int_equal(find(f, &c), 0);
    assert_int_equal(c.skipped, 0);
}

/* ---- enumeration ---- */

struct seen {
    unsigned n;
    struct pci_addr a[64];
};

static void record(void *arg, const struct pci_dev *d)
{
    struct seen *s = arg;
    assert_true(s->n < 64);
    for (unsigned i = 0; i < s->n; i++)
        assert_false(s->a[i].bus == d->addr.bus && s->a[i].dev == d->addr.dev &&
                     s->a[i].fn == d->addr.fn);
    s->a[s->n++] = d->addr;
}

static void test_scan(void **state)
{
    (void)state;
    pm_add(&model, 0, 0, 0, 0x8086, 0x1237, PCI_HDR_DEVICE);                   /* host bridge */
    pm_add(&model, 0, 1, 0, 0x8086, 0x7000, PCI_HDR_DEVICE | PCI_HDR_MULTIFN); /* ISA */
    pm_add(&model, 0, 1, 1, 0x8086, 0x7010, PCI_HDR_DEVICE);
    pm_add(&model, 0, 1, 3, 0x8086, 0x7113, PCI_HDR_DEVICE);
    pm_virtio_blk(&model, 0, 3);
    pm_add(&model, 0, 2, 1, 0x1234, 0x1111, PCI_HDR_DEVICE); /* fn 1 of a single-function slot */
    struct pm_fn *br = pm_add(&model, 0, 4, 0, 0x1b36, 0x0001, PCI_HDR_BRIDGE);
    pm_put32(br, PCI_BUS_NUMBERS, 0x00050100); /* secondary 1 */
    pm_add(&model, 1, 0, 0, 0x1af4, 0x1041, PCI_HDR_DEVICE);
    struct pm_fn *back = pm_add(&model, 1, 1, 0, 0x1b36, 0x0001, PCI_HDR_BRIDGE);
    pm_put32(back, PCI_BUS_NUMBERS, 0x00000001); /* secondary 0: back where we came from */
    struct pm_fn *self = pm_add(&model, 1, 2, 0, 0x1b36, 0x0001, PCI_HDR_BRIDGE);
    pm_put32(self, PCI_BUS_NUMBERS, 0x00010101); /* secondary 1: itself */
    struct pm_fn *far = pm_add(&model, 1, 3, 0, 0x1b36, 0x0001, PCI_HDR_BRIDGE);
    pm_put32(far, PCI_BUS_NUMBERS, 0x00ffff01); /* secondary 255: empty */
    struct seen s = {0};
    assert_int_equal(pci_scan(&io, record, &s), 10);
    assert_int_equal(s.n, 10);
    for (unsigned i = 0; i < s.n; i++)
        assert_false(s.a[i].bus == 0 && s.a[i].dev == 2); /* no fn 0 there: fn 1 unseen */
    /* Three buses, 32 slots each, one read per empty slot at least. */
    assert_true(model.reads < 3 * 32 * 12);
    assert_int_equal(model.bad, 0);
    assert_int_equal(model.writes, 0);
}

static void test_scan_every_bus(void **state)
{
    (void)state;
    /* Bridges chaining through all 256 buses: each scanned once. */
    for (unsigned bus = 0; bus < PM_MAX_FNS; bus++) {
        struct pm_fn *b = pm_add(&model, (uint8_t)bus, 0, 0, 0x1b36, 1, PCI_HDR_BRIDGE);
        pm_put32(b, PCI_BUS_NUMBERS, ((bus + 1) % PM_MAX_FNS) << 8);
    }
    struct seen s = {0};
    assert_int_equal(pci_scan(&io, record, &s), PM_MAX_FNS);
}

/* ---- mutation ---- */

static void check_found(const struct pci_bar *bars, const struct virtio_pci_region *r)
{
    if (!r->present)
        return;
    assert_true(r->bar < PCI_BARS);
    assert_true(bars[r->bar].kind == PCI_BAR_MEM32 || bars[r->bar].kind == PCI_BAR_MEM64);
    assert_true((uint64_t)r->offset + r->length <= bars[r->bar].size);
}

static void test_mutation(void **state)
{
    (void)state;
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x09, 0x10,
                                          0x11, 0x38, 0x40, 0x7f, 0x80, 0xfc, 0xfe, 0xff};
    rng_state = 0x5eed0bad;
    for (int iter = 0; iter < 20000; iter++) {
        setup(NULL);
        struct pm_fn *f = pm_virtio_blk(&model, 0, 3);
        int n = 1 + (int)(rng() % 8);
        for (int k = 0; k < n; k++) {
            uint64_t r = rng();
            if (r % 8 == 0)
                f->bar_wmask[r / 8 % PCI_BARS] ^= 1u << (rng() % 32);
            else
                mutate_byte(f->cfg, rng() % PCI_CFG_SIZE, interesting, sizeof(interesting));
        }
        struct pci_dev d;
        if (pci_read_header(&io, f->addr, &d) < 0)
            continue;
        struct pci_bar bars[PCI_BARS];
        pci_size_bars(&io, &d, bars);
        for (int i = 0; i < PCI_BARS; i++) {
            if (bars[i].kind == PCI_BAR_NONE || bars[i].kind == PCI_BAR_UPPER)
                continue;
            assert_true(bars[i].size && (bars[i].size & (bars[i].size - 1)) == 0);
            assert_int_equal(bars[i].base & (bars[i].size - 1), 0);
            assert_true(bars[i].base + bars[i].size - 1 >= bars[i].base);
        }
        struct pci_cap caps[PCI_MAX_CAPS];
        int nc = pci_caps(&io, &d, caps, PCI_MAX_CAPS);
        for (int i = 0; i < nc; i++)
            assert_true(caps[i].off >= PCI_CAP_MIN && caps[i].off % 4 == 0);
        struct virtio_pci_caps c;
        int rc = virtio_pci_find_caps(&io, &d, bars, &c);
        assert_true(rc == 0 || rc == -E_NOENT || rc == -E_INVAL);
        check_found(bars, &c.common);
        check_found(bars, &c.notify);
        check_found(bars, &c.isr);
        check_found(bars, &c.device);
        if (c.common.present)
            assert_true(c.common.length >= VIRTIO_PCI_COMMON_CFG_SIZE);
        assert_true(c.notify_off_multiplier != 1 &&
                    (c.notify_off_multiplier & (c.notify_off_multiplier - 1)) == 0);
        assert_int_equal(model.bad, 0);
        assert_int_equal(model.decoding, 0);
        assert_int_equal(model.cleared, 0);
    }
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_header_virtio_blk),
        T(test_header_absent),
        T(test_header_odd_values),
        T(test_cfg_read_widths),
        T(test_bars_virtio_blk),
        T(test_bars_kinds),
        T(test_bars_hostile),
        T(test_bars_bridge),
        T(test_command),
        T(test_caps_walk),
        T(test_caps_hostile),
        T(test_virtio_caps_qemu),
        T(test_virtio_device_types),
        T(test_virtio_caps_hostile),
        T(test_virtio_caps_notify),
        T(test_virtio_caps_missing),
        T(test_scan),
        T(test_scan_every_bus),
        T(test_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
