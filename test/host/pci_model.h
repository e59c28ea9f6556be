/*
 * A fake PCI configuration space for the host tests and the fuzzer: a few
 * functions of 256 bytes each, BARs that answer the write-all-ones probe
 * through a writable-bits mask, a write-one-to-clear status register, and
 * a count of every access the code under test should never make.
 */
#ifndef PCI_MODEL_H
#define PCI_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../servers/pci/pci.h"

#define PM_MAX_FNS 16

struct pm_fn {
    struct pci_addr addr;
    uint8_t cfg[PCI_CFG_SIZE];
    uint32_t bar_wmask[PCI_BARS];  /* bits of each BAR register the driver can write */
    uint32_t bar_answer[PCI_BARS]; /* if not 0: a hostile answer to the all-ones probe */
    uint8_t probing;               /* BARs holding all ones with a hostile answer */
};

struct pci_model {
    struct pm_fn fn[PM_MAX_FNS];
    unsigned n;
    unsigned reads, writes;
    unsigned bad;      /* misaligned or out-of-range accesses, writes to read-only places */
    unsigned decoding; /* BARs probed while memory/I/O decoding was on */
    unsigned cleared;  /* status error bits cleared by a write */
    uint16_t status_rw1c;
};

static inline struct pm_fn *pm_find(struct pci_model *m, struct pci_addr a)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->fn[i].addr.bus == a.bus && m->fn[i].addr.dev == a.dev && m->fn[i].addr.fn == a.fn)
            return &m->fn[i];
    return NULL;
}

static inline uint32_t pm_get32(const struct pm_fn *f, unsigned off)
{
    uint32_t v;
    memcpy(&v, f->cfg + off, 4);
    return v;
}

static inline void pm_put32(struct pm_fn *f, unsigned off, uint32_t v)
{
    memcpy(f->cfg + off, &v, 4);
}

static inline void pm_put16(struct pm_fn *f, unsigned off, uint16_t v)
{
    memcpy(f->cfg + off, &v, 2);
}

static inline uint32_t pm_read32(void *ctx, struct pci_addr a, uint8_t off)
{
    struct pci_model *m = ctx;
    m->reads++;
    if (off & 3 || a.dev >= PCI_DEVS_PER_BUS || a.fn >= PCI_FNS_PER_DEV) {
        m->bad++;
        return 0xffffffffu;
    }
    struct pm_fn *f = pm_find(m, a);
    if (!f)
        return 0xffffffffu;
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * PCI_BARS &&
        (f->probing >> ((off - PCI_BAR0) / 4)) & 1)
        return f->bar_answer[(off - PCI_BAR0) / 4];
    return pm_get32(f, off);
}

static inline void pm_write32(void *ctx, struct pci_addr a, uint8_t off, uint32_t v)
{
    struct pci_model *m = ctx;
    m->writes++;
    struct pm_fn *f = pm_find(m, a);
    if (off & 3 || !f) {
        m->bad++;
        return;
    }
    if (off == PCI_COMMAND) {
        uint32_t old = pm_get32(f, off);
        uint16_t clear = (uint16_t)(v >> 16) & m->status_rw1c & (uint16_t)(old >> 16);
        if (clear)
            m->cleared++;
        pm_put32(f, off, ((old >> 16) & ~(uint32_t)clear) << 16 | (v & 0xffff));
    } else if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * PCI_BARS) {
        unsigned i = (off - PCI_BAR0) / 4u;
        uint32_t mask = f->bar_wmask[i];
        f->probing &= (uint8_t) ~(1u << i);
        if (v == 0xffffffffu && f->bar_answer[i]) {
            f->probing |= (uint8_t)(1u << i);
            return;
        }
        if (v == 0xffffffffu && (pm_get32(f, PCI_COMMAND) & (PCI_CMD_IO | PCI_CMD_MEMORY)))
            m->decoding++; /* all ones in a decoding BAR: it claims foreign addresses */
        pm_put32(f, off, (v & mask) | (pm_get32(f, off) & ~mask));
    } else {
        m->bad++; /* nothing else is written by the code under test */
    }
}

static inline struct pci_config_ops pm_ops(struct pci_model *m)
{
    return (struct pci_config_ops){m, pm_read32, pm_write32};
}

/* Add a function with the given ids and header type (capability list
 * empty, no BARs). */
static inline struct pm_fn *pm_add(struct pci_model *m, uint8_t bus, uint8_t dev, uint8_t fn,
                                   uint16_t vendor, uint16_t device, uint8_t header_type)
{
    if (m->n == PM_MAX_FNS)
        return NULL;
    struct pm_fn *f = &m->fn[m->n++];
    memset(f, 0, sizeof(*f));
    f->addr = (struct pci_addr){bus, dev, fn};
    pm_put32(f, PCI_VENDOR_ID, (uint32_t)device << 16 | vendor);
    f->cfg[PCI_HEADER_DW + 2] = header_type;
    return f;
}

/* A BAR of `size` bytes (a power of 2) at base; kind as in pci.h. For a
 * 64-bit BAR the next register is its upper half. */
static inline void pm_bar(struct pm_fn *f, unsigned i, enum pci_bar_kind kind, uint64_t base,
                          uint64_t size, bool prefetch)
{
    uint64_t mask = ~(size - 1);
    switch (kind) {
    case PCI_BAR_IO:
        pm_put32(f, PCI_BAR0 + 4 * i, (uint32_t)base | 1);
        f->bar_wmask[i] = (uint32_t)mask & 0xfffcu; /* 16-bit decode */
        break;
    case PCI_BAR_MEM32:
        pm_put32(f, PCI_BAR0 + 4 * i, (uint32_t)base | (prefetch ? 8 : 0));
        f->bar_wmask[i] = (uint32_t)mask & ~0xfu;
        break;
    case PCI_BAR_MEM64:
        pm_put32(f, PCI_BAR0 + 4 * i, (uint32_t)base | 4 | (prefetch ? 8 : 0));
        f->bar_wmask[i] = (uint32_t)mask & ~0xfu;
        if (i + 1 < PCI_BARS) { /* a 64-bit BAR 5 has no upper half: broken on purpose */
            pm_put32(f, PCI_BAR0 + 4 * (i + 1), (uint32_t)(base >> 32));
            f->bar_wmask[i + 1] = (uint32_t)(mask >> 32);
        }
        break;
    default:
        break;
    }
}

/* Start the capability list (sets the status bit) / add one capability
 * whose body (after id and next) is `body`. */
static inline void pm_cap(struct pm_fn *f, uint8_t off, uint8_t id, uint8_t next,
                          const uint8_t *body, unsigned len)
{
    f->cfg[off] = id;
    f->cfg[off + 1] = next;
    if (len && off + 2 + len <= PCI_CFG_SIZE)
        memcpy(f->cfg + off + 2, body, len);
}

static inline void pm_cap_list(struct pm_fn *f, uint8_t first)
{
    f->cfg[PCI_COMMAND + 2] |= PCI_STATUS_CAPS;
    f->cfg[PCI_CAP_PTR] = first;
}

/* A virtio vendor capability at off: cfg_type, bar, offset, length (and
 * the multiplier for notify), cap_len as given. */
static inline void pm_virtio_cap(struct pm_fn *f, uint8_t off, uint8_t next, uint8_t cap_len,
                                 uint8_t type, uint8_t bar, uint32_t offset, uint32_t length,
                                 uint32_t mult)
{
    uint8_t body[18] = {cap_len, type, bar};
    memcpy(body + 6, &offset, 4);
    memcpy(body + 10, &length, 4);
    memcpy(body + 14, &mult, 4);
    unsigned n = cap_len >= 20 ? 18 : 14; /* a short cap_len still has its fields written */
    if (off + 2u + n > PCI_CFG_SIZE)
        n = PCI_CFG_SIZE - off - 2u;
    pm_cap(f, off, PCI_CAP_ID_VENDOR, next, body, n);
}

/* QEMU's virtio-blk-pci with disable-legacy=on, as the tests know it:
 * BAR1 4 KiB (MSI-X table), BAR4 64-bit 16 KiB with the four structures. */
#define PM_BAR4_BASE 0xfe000000ull
#define PM_BAR1_BASE 0xfebf1000ull
static inline struct pm_fn *pm_virtio_blk(struct pci_model *m, uint8_t bus, uint8_t dev)
{
    struct pm_fn *f = pm_add(m, bus, dev, 0, 0x1af4, 0x1042, PCI_HDR_DEVICE);
    if (!f)
        return NULL;
    pm_put32(f, PCI_CLASS_REV, 0x01000001u); /* mass storage, SCSI, rev 1 */
    pm_put32(f, PCI_SUBSYSTEM, 0x11001af4u);
    pm_put16(f, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER);
    f->cfg[PCI_INTERRUPT] = 11;
    f->cfg[PCI_INTERRUPT + 1] = 1;
    pm_bar(f, 1, PCI_BAR_MEM32, PM_BAR1_BASE, 0x1000, false);
    pm_bar(f, 4, PCI_BAR_MEM64, PM_BAR4_BASE, 0x4000, true);
    pm_cap_list(f, 0x98);
    uint8_t msix[10] = {0x01, 0x00, 0x01, 0, 0, 0, 0x01, 0x08, 0, 0};
    pm_cap(f, 0x98, PCI_CAP_ID_MSIX, 0x84, msix, sizeof(msix));
    pm_virtio_cap(f, 0x84, 0x70, 20, 5, 0, 0, 0, 0);           /* pci_cfg */
    pm_virtio_cap(f, 0x70, 0x60, 20, 2, 4, 0x3000, 0x1000, 4); /* notify */
    pm_virtio_cap(f, 0x60, 0x50, 16, 4, 4, 0x2000, 0x1000, 0); /* device */
    pm_virtio_cap(f, 0x50, 0x40, 16, 3, 4, 0x1000, 0x1000, 0); /* isr */
    pm_virtio_cap(f, 0x40, 0x00, 16, 1, 4, 0x0000, 0x1000, 0); /* common */
    return f;
}

#endif
