/*
 * A fake virtio-blk device (virtio 1.0, PCI transport) for the host tests
 * and the fuzzer. It really processes the rings in the "DMA" memory it is
 * given (descriptors, available ring, data, used ring) against an
 * in-memory disk, and it checks the driver: register widths, the status
 * order, feature bits, queue set-up, descriptor flags and addresses. Every
 * rule the driver breaks is counted in `violations` (the first one named
 * in `why`); hostile behaviour is switched on through the model's fields.
 */
#ifndef VIRTIO_MODEL_H
#define VIRTIO_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../servers/virtio_blk/virtio.h"
#include "../../servers/virtio_blk/virtq.h"

#define VM_MAX_DMA     16
#define VM_MAX_QUEUE   1024
#define VM_NOTIFY_LEN  0x1000
#define VM_DEVCFG_LEN  0x40
#define VM_STATUS_KEEP 0x100 /* next_status: leave the status byte as the driver set it */
#define VM_ID_BYTES    20

struct vm_pending {
    uint16_t head;
    uint32_t written; /* bytes the device wrote: data + status */
};

struct virtio_model {
    /* what the device is */
    uint64_t offered;     /* feature bits */
    uint16_t qmax;        /* queue 0's maximum size; 0 = no queue */
    uint16_t notify_off;  /* queue 0's queue_notify_off */
    uint32_t notify_mult; /* notify_off_multiplier */
    uint32_t area_len[VIRTIO_AREAS];
    uint8_t devcfg[VM_DEVCFG_LEN]; /* struct virtio_blk_config */
    uint8_t *disk;
    uint64_t disk_bytes;
    char id[VM_ID_BYTES];

    /* hostile switches */
    bool refuse_features;   /* clear FEATURES_OK when the driver sets it */
    uint32_t reset_delay;   /* status reads that still see the old value after a reset */
    uint32_t cfg_flips;     /* config_generation reads that see a new generation */
    bool defer;             /* hold completions until vm_complete */
    uint32_t next_status;   /* if not 0: status for the next completion, - 1 (VM_STATUS_KEEP) */
    int32_t len_delta;      /* added to the used length of each completion */
    uint32_t io_error_from; /* sectors at or past this fail with IOERR (0: none) */

    /* registers */
    uint32_t dfselect, gfselect;
    uint64_t driver_features;
    uint8_t status, cfggen, isr;
    uint16_t qselect, msix_config;
    uint32_t reset_left;
    struct {
        uint16_t size, enable, msix;
        uint64_t desc, avail, used;
    } q;

    /* rings */
    uint16_t last_avail, used_idx;
    struct vm_pending pending[VM_MAX_QUEUE];
    unsigned npending;
    uint16_t busy[VM_MAX_QUEUE]; /* descriptors the device holds: head + 1 of their chain */
    bool lied;                   /* raw used entries were written since the reset: the driver may
                                    rightly believe a chain the model still holds is done */

    /* the driver's DMA memory, as the device sees it */
    struct dma_region dma[VM_MAX_DMA];
    unsigned ndma;

    /* what happened */
    unsigned violations;
    char why[160];
    unsigned notifies, resets, flushes, requests, status_writes;
    uint8_t status_log[64];
};

#define VM_FAIL(m, ...)                                                                            \
    do {                                                                                           \
        if ((m)->violations++ == 0)                                                                \
            snprintf((m)->why, sizeof((m)->why), __VA_ARGS__);                                     \
    } while (0)

static inline void vm_put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Configure a healthy QEMU-like device over `disk` (its size a multiple
 * of 512). */
static inline void vm_init(struct virtio_model *m, uint8_t *disk, uint64_t disk_bytes)
{
    memset(m, 0, sizeof(*m));
    m->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC |
                 1ull << VIRTIO_F_EVENT_IDX | 1ull << 2 /* SEG_MAX */ | 1ull << 6 /* BLK_SIZE */ |
                 1ull << 9 /* FLUSH */ | 1ull << 4 /* GEOMETRY */ | 1ull << 10 /* TOPOLOGY */;
    m->qmax = 256;
    m->notify_off = 0;
    m->notify_mult = 4;
    m->area_len[VIRTIO_AREA_COMMON] = 0x1000;
    m->area_len[VIRTIO_AREA_NOTIFY] = VM_NOTIFY_LEN;
    m->area_len[VIRTIO_AREA_ISR] = 0x1000;
    m->area_len[VIRTIO_AREA_DEVICE] = VM_DEVCFG_LEN;
    m->disk = disk;
    m->disk_bytes = disk_bytes;
    uint64_t cap = disk_bytes / 512;
    memcpy(m->devcfg, &cap, 8);
    vm_put32(m->devcfg + 12, 254); /* seg_max = queue size - 2, as QEMU */
    vm_put32(m->devcfg + 20, 512); /* blk_size */
    memcpy(m->id, "GRANITE-DISK-0001", 17);
}

static inline void vm_add_dma(struct virtio_model *m, const struct dma_region *r)
{
    if (m->ndma < VM_MAX_DMA)
        m->dma[m->ndma++] = *r;
}

/* The driver's memory behind device address [phys, phys + len), or NULL
 * (a violation) if it is not all inside one DMA region. */
static inline uint8_t *vm_dma(struct virtio_model *m, uint64_t phys, uint64_t len)
{
    for (unsigned i = 0; i < m->ndma; i++) {
        const struct dma_region *r = &m->dma[i];
        if (phys >= r->phys && phys - r->phys < r->size && len <= r->size - (phys - r->phys))
            return r->virt + (phys - r->phys);
    }
    VM_FAIL(m, "device address %#llx+%llu outside the DMA regions", (unsigned long long)phys,
            (unsigned long long)len);
    return NULL;
}

static inline void vm_reset(struct virtio_model *m)
{
    m->resets++;
    m->status = 0;
    m->reset_left = m->reset_delay;
    m->driver_features = 0;
    m->dfselect = m->gfselect = 0;
    m->isr = 0;
    m->qselect = 0;
    memset(&m->q, 0, sizeof(m->q));
    m->last_avail = m->used_idx = 0;
    m->npending = 0;
    memset(m->busy, 0, sizeof(m->busy));
    m->lied = false;
}

static inline unsigned vm_common_width(uint32_t off)
{
    if (off <= 0x0c || (off >= 0x20 && off <= 0x34))
        return off % 4 == 0 ? 4 : 0;
    if (off == VIRTIO_COMMON_STATUS || off == VIRTIO_COMMON_CFGGEN)
        return 1;
    if (off >= 0x10 && off <= 0x1e)
        return off % 2 == 0 ? 2 : 0;
    return 0;
}

static inline bool vm_queue_ok(struct virtio_model *m)
{
    uint16_t n = m->q.size;
    if (n == 0 || n > m->qmax || n > VM_MAX_QUEUE || (n & (n - 1))) {
        VM_FAIL(m, "queue size %u (max %u) not a power of 2 within the maximum", n, m->qmax);
        return false;
    }
    if (m->q.desc % 16 || m->q.avail % 2 || m->q.used % 4) {
        VM_FAIL(m, "misaligned rings");
        return false;
    }
    return vm_dma(m, m->q.desc, VIRTQ_DESC_BYTES(n)) &&
           vm_dma(m, m->q.avail, VIRTQ_AVAIL_BYTES(n)) && vm_dma(m, m->q.used, VIRTQ_USED_BYTES(n));
}

static inline void vm_status_write(struct virtio_model *m, uint8_t v)
{
    if (m->status_writes < sizeof(m->status_log))
        m->status_log[m->status_writes] = v;
    m->status_writes++;
    if (v == 0) {
        vm_reset(m);
        return;
    }
    uint8_t old = m->status;
    if ((old & ~v) & ~VIRTIO_STATUS_NEEDS_RESET)
        VM_FAIL(m, "status %#x clears bits of %#x", v, old);
    uint8_t gained = v & ~old;
    if (gained & VIRTIO_STATUS_DRIVER && !(v & VIRTIO_STATUS_ACKNOWLEDGE))
        VM_FAIL(m, "DRIVER before ACKNOWLEDGE");
    if (gained & VIRTIO_STATUS_FEATURES_OK) {
        if (!(v & VIRTIO_STATUS_DRIVER))
            VM_FAIL(m, "FEATURES_OK before DRIVER");
        if (m->driver_features & ~m->offered)
            VM_FAIL(m, "driver accepted features %#llx not offered",
                    (unsigned long long)(m->driver_features & ~m->offered));
        if (!(m->driver_features >> VIRTIO_F_VERSION_1 & 1))
            VM_FAIL(m, "FEATURES_OK without VERSION_1");
        if (m->refuse_features)
            v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    if (gained & VIRTIO_STATUS_DRIVER_OK) {
        if (!(v & VIRTIO_STATUS_FEATURES_OK))
            VM_FAIL(m, "DRIVER_OK without FEATURES_OK");
        if (!m->q.enable)
            VM_FAIL(m, "DRIVER_OK with queue 0 not enabled");
    }
    m->status = (uint8_t)(v | (old & VIRTIO_STATUS_NEEDS_RESET));
}

static inline void vm_common_write(struct virtio_model *m, uint32_t off, uint32_t v)
{
    bool features_phase =
        (m->status & VIRTIO_STATUS_DRIVER) && !(m->status & VIRTIO_STATUS_FEATURES_OK);
    bool queue_phase =
        (m->status & VIRTIO_STATUS_FEATURES_OK) && !(m->status & VIRTIO_STATUS_DRIVER_OK);
    switch (off) {
    case VIRTIO_COMMON_DFSELECT:
        m->dfselect = v;
        return;
    case VIRTIO_COMMON_GFSELECT:
        m->gfselect = v;
        return;
    case VIRTIO_COMMON_GF:
        if (!features_phase)
            VM_FAIL(m, "driver_feature written outside feature negotiation");
        if (m->gfselect < 2) {
            uint64_t shift = 32 * m->gfselect;
            m->driver_features = (m->driver_features & ~(0xffffffffull << shift)) | (uint64_t)v
                                                                                        << shift;
        }
        return;
    case VIRTIO_COMMON_MSIX:
        m->msix_config = (uint16_t)v;
        return;
    case VIRTIO_COMMON_STATUS:
        vm_status_write(m, (uint8_t)v);
        return;
    case VIRTIO_COMMON_Q_SELECT:
        m->qselect = (uint16_t)v;
        return;
    default:
        break;
    }
    if (off >= VIRTIO_COMMON_Q_SIZE && off <= VIRTIO_COMMON_Q_USEDHI) {
        if (!queue_phase)
            VM_FAIL(m, "queue register %#x written outside queue set-up", off);
        if (m->qselect != 0)
            return; /* no such queue: ignored */
        if (m->q.enable && off != VIRTIO_COMMON_Q_ENABLE)
            VM_FAIL(m, "queue register %#x written while the queue is enabled", off);
        uint64_t lo = v, hi = (uint64_t)v << 32;
        switch (off) {
        case VIRTIO_COMMON_Q_SIZE:
            m->q.size = (uint16_t)v;
            break;
        case VIRTIO_COMMON_Q_MSIX:
            m->q.msix = (uint16_t)v;
            break;
        case VIRTIO_COMMON_Q_ENABLE:
            if (v != 1)
                VM_FAIL(m, "queue_enable written with %u", v);
            else if (vm_queue_ok(m))
                m->q.enable = 1;
            break;
        case VIRTIO_COMMON_Q_DESCLO:
            m->q.desc = (m->q.desc & ~0xffffffffull) | lo;
            break;
        case VIRTIO_COMMON_Q_DESCHI:
            m->q.desc = (m->q.desc & 0xffffffffull) | hi;
            break;
        case VIRTIO_COMMON_Q_AVAILLO:
            m->q.avail = (m->q.avail & ~0xffffffffull) | lo;
            break;
        case VIRTIO_COMMON_Q_AVAILHI:
            m->q.avail = (m->q.avail & 0xffffffffull) | hi;
            break;
        case VIRTIO_COMMON_Q_USEDLO:
            m->q.used = (m->q.used & ~0xffffffffull) | lo;
            break;
        case VIRTIO_COMMON_Q_USEDHI:
            m->q.used = (m->q.used & 0xffffffffull) | hi;
            break;
        default:
            VM_FAIL(m, "write to read-only common register %#x", off);
        }
        return;
    }
    VM_FAIL(m, "write to read-only common register %#x", off);
}

static inline uint32_t vm_common_read(struct virtio_model *m, uint32_t off)
{
    switch (off) {
    case VIRTIO_COMMON_DFSELECT:
        return m->dfselect;
    case VIRTIO_COMMON_DF:
        return m->dfselect < 2 ? (uint32_t)(m->offered >> (32 * m->dfselect)) : 0;
    case VIRTIO_COMMON_GFSELECT:
        return m->gfselect;
    case VIRTIO_COMMON_GF:
        return m->gfselect < 2 ? (uint32_t)(m->driver_features >> (32 * m->gfselect)) : 0;
    case VIRTIO_COMMON_MSIX:
        return m->msix_config;
    case VIRTIO_COMMON_NUMQ:
        return 1;
    case VIRTIO_COMMON_STATUS:
        if (m->reset_left) {
            m->reset_left--;
            return VIRTIO_STATUS_ACKNOWLEDGE; /* not done resetting */
        }
        return m->status;
    case VIRTIO_COMMON_CFGGEN:
        if (m->cfg_flips) {
            m->cfg_flips--;
            m->cfggen++;
        }
        return m->cfggen;
    case VIRTIO_COMMON_Q_SELECT:
        return m->qselect;
    case VIRTIO_COMMON_Q_SIZE:
        return m->qselect == 0 ? (m->q.size ? m->q.size : m->qmax) : 0;
    case VIRTIO_COMMON_Q_MSIX:
        return m->q.msix;
    case VIRTIO_COMMON_Q_ENABLE:
        return m->q.enable;
    case VIRTIO_COMMON_Q_NOFF:
        return m->notify_off;
    default:
        return 0; /* the 64-bit queue addresses read back as 0 here; the driver never reads them */
    }
}

/* The device lets go of pending request i (its descriptors are the
 * driver's again). */
static inline struct vm_pending vm_release(struct virtio_model *m, unsigned i)
{
    struct vm_pending p = m->pending[i];
    m->pending[i] = m->pending[--m->npending];
    for (unsigned at = 0; at < VM_MAX_QUEUE; at++)
        if (m->busy[at] == p.head + 1u)
            m->busy[at] = 0;
    return p;
}

/* Complete pending request i: used entry, index, interrupt. */
static inline void vm_complete(struct virtio_model *m, unsigned i)
{
    if (i >= m->npending || !m->q.enable)
        return;
    struct vm_pending p = vm_release(m, i);
    uint16_t n = m->q.size;
    struct virtq_used *u = (struct virtq_used *)(void *)vm_dma(m, m->q.used, VIRTQ_USED_BYTES(n));
    if (!u)
        return;
    uint32_t len = (uint32_t)((int64_t)p.written + m->len_delta);
    u->ring[m->used_idx % n] = (struct virtq_used_elem){p.head, len};
    m->used_idx++;
    __atomic_store_n(&u->idx, m->used_idx, __ATOMIC_RELEASE);
    m->isr |= VIRTIO_ISR_QUEUE;
}

/* Pop one available chain, check it, perform the block request into the
 * pending list. Returns false when nothing is available. */
static inline bool vm_pop(struct virtio_model *m)
{
    uint16_t n = m->q.size;
    if (!m->q.enable || !(m->status & VIRTIO_STATUS_DRIVER_OK) || m->npending >= VM_MAX_QUEUE)
        return false;
    struct virtq_avail *a =
        (struct virtq_avail *)(void *)vm_dma(m, m->q.avail, VIRTQ_AVAIL_BYTES(n));
    struct virtq_desc *d = (struct virtq_desc *)(void *)vm_dma(m, m->q.desc, VIRTQ_DESC_BYTES(n));
    if (!a || !d)
        return false;
    uint16_t aidx = __atomic_load_n(&a->idx, __ATOMIC_ACQUIRE);
    if ((uint16_t)(aidx - m->last_avail) > n) {
        VM_FAIL(m, "avail idx %u runs %u ahead", aidx, (uint16_t)(aidx - m->last_avail));
        return false;
    }
    if (aidx == m->last_avail)
        return false;
    uint16_t head = a->ring[m->last_avail % n];
    m->last_avail++;
    if (head >= n) {
        VM_FAIL(m, "avail entry %u out of range", head);
        return false;
    }
    /* Walk the chain: readable buffers first, then writable, no loops. */
    struct {
        uint8_t *p;
        uint32_t len;
        bool w;
    } buf[VM_MAX_QUEUE];
    unsigned nb = 0;
    bool seen_w = false;
    for (uint16_t at = head;; at = d[at].next) {
        if (nb == n || at >= n) {
            VM_FAIL(m, "descriptor chain from %u loops or leaves the table", head);
            return true;
        }
        if (m->busy[at] && m->lied) {
            /* A stale raw entry named that chain: the driver took it back. */
            for (unsigned i = 0; i < m->npending; i++)
                if (m->pending[i].head + 1u == m->busy[at]) {
                    vm_release(m, i);
                    break;
                }
        }
        if (m->busy[at])
            VM_FAIL(m, "descriptor %u made available while the device holds it", at);
        m->busy[at] = (uint16_t)(head + 1);
        struct virtq_desc x = d[at];
        if (x.flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE))
            VM_FAIL(m, "descriptor %u flags %#x (indirect not negotiated)", at, x.flags);
        bool w = x.flags & VIRTQ_DESC_F_WRITE;
        if (seen_w && !w)
            VM_FAIL(m, "readable descriptor %u after a writable one", at);
        seen_w |= w;
        if (x.len == 0)
            VM_FAIL(m, "descriptor %u of length 0", at);
        uint8_t *p = vm_dma(m, x.addr, x.len);
        if (!p)
            return true;
        buf[nb].p = p;
        buf[nb].len = x.len;
        buf[nb++].w = w;
        if (!(x.flags & VIRTQ_DESC_F_NEXT))
            break;
    }
    m->requests++;
    struct vm_pending p = {.head = head};
    if (nb < 2 || buf[0].w || buf[0].len != 16 || !buf[nb - 1].w || buf[nb - 1].len != 1) {
        VM_FAIL(m, "request %u: not header(16, readable) ... status(1, writable)", head);
        m->pending[m->npending++] = p;
        return true;
    }
    uint32_t type, reserved;
    uint64_t sector;
    memcpy(&type, buf[0].p, 4);
    memcpy(&reserved, buf[0].p + 4, 4);
    memcpy(&sector, buf[0].p + 8, 8);
    if (reserved)
        VM_FAIL(m, "request %u: reserved field %u", head, reserved);
    uint64_t data = 0;
    bool data_w = false;
    for (unsigned k = 1; k + 1 < nb; k++) {
        data += buf[k].len;
        data_w = buf[k].w;
        if (buf[k].w != buf[1].w)
            VM_FAIL(m, "request %u: data both readable and writable", head);
    }
    uint8_t status = VIRTIO_BLK_S_OK;
    uint32_t written = 0;
    switch (type) {
    case 0: /* IN */
    case 1: /* OUT */
        if (data == 0 || data % 512 || data_w != (type == 0))
            VM_FAIL(m, "request %u: type %u with %llu data bytes (writable %d)", head, type,
                    (unsigned long long)data, data_w);
        if (sector > m->disk_bytes / 512 || data > m->disk_bytes - sector * 512 ||
            (m->io_error_from && sector + data / 512 > m->io_error_from)) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (type == 1 && (m->offered >> 5 & 1) /* RO */) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        for (unsigned k = 1, at = 0; k + 1 < nb; at += buf[k].len, k++) {
            uint8_t *disk = m->disk + sector * 512 + at;
            if (type == 0)
                memcpy(buf[k].p, disk, buf[k].len);
            else
                memcpy(disk, buf[k].p, buf[k].len);
        }
        written = type == 0 ? (uint32_t)data : 0;
        break;
    case 4: /* FLUSH */
        if (nb != 2 || sector)
            VM_FAIL(m, "request %u: flush with data or a sector", head);
        if (!(m->driver_features >> 9 & 1))
            VM_FAIL(m, "flush without VIRTIO_BLK_F_FLUSH");
        m->flushes++;
        break;
    case 8: /* GET_ID */
        if (!data_w || data < VM_ID_BYTES)
            VM_FAIL(m, "request %u: GET_ID buffer of %llu bytes", head, (unsigned long long)data);
        for (unsigned k = 1, at = 0; k + 1 < nb && at < VM_ID_BYTES; k++) {
            uint32_t c = buf[k].len < VM_ID_BYTES - at ? buf[k].len : VM_ID_BYTES - at;
            memcpy(buf[k].p, m->id + at, c);
            at += c;
            written += c;
        }
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (m->next_status == VM_STATUS_KEEP)
        ; /* the byte stays as the driver left it */
    else
        buf[nb - 1].p[0] = m->next_status ? (uint8_t)(m->next_status - 1) : status;
    p.written = written + 1;
    m->pending[m->npending++] = p;
    return true;
}

/* Take everything available; complete it unless completions are held. */
static inline void vm_process(struct virtio_model *m)
{
    while (vm_pop(m))
        if (!m->defer)
            vm_complete(m, m->npending - 1);
}

/* A raw used entry, whatever it says; used->idx then moves by `step`. Any
 * available chains are popped first (and held). Whatever entries the new
 * index exposes (the raw one and stale ones past it) tell the driver those
 * chains are done, so the model lets go of them too: its books stay
 * coherent with whatever the driver makes of the lie. */
static inline void vm_used_raw(struct virtio_model *m, uint32_t id, uint32_t len, uint16_t step)
{
    bool defer = m->defer;
    m->defer = true;
    vm_process(m);
    m->defer = defer;
    uint16_t n = m->q.size;
    struct virtq_used *u =
        m->q.enable ? (struct virtq_used *)(void *)vm_dma(m, m->q.used, VIRTQ_USED_BYTES(n)) : NULL;
    if (!u)
        return;
    m->lied = true;
    u->ring[m->used_idx % n] = (struct virtq_used_elem){id, len};
    for (unsigned k = 0; k < step && k < n; k++) {
        uint32_t named = u->ring[(m->used_idx + k) % n].id;
        for (unsigned i = 0; i < m->npending; i++)
            if (m->pending[i].head == named) {
                vm_release(m, i);
                break;
            }
    }
    m->used_idx = (uint16_t)(m->used_idx + step);
    __atomic_store_n(&u->idx, m->used_idx, __ATOMIC_RELEASE);
    m->isr |= VIRTIO_ISR_QUEUE;
}

static inline uint32_t vm_read(void *ctx, enum virtio_area area, uint32_t off, unsigned width)
{
    struct virtio_model *m = ctx;
    if ((width != 1 && width != 2 && width != 4) || off % width || area >= VIRTIO_AREAS ||
        off + width > m->area_len[area]) {
        VM_FAIL(m, "read area %d off %#x width %u", area, off, width);
        return 0xffffffffu;
    }
    switch (area) {
    case VIRTIO_AREA_COMMON:
        if (vm_common_width(off) != width) {
            VM_FAIL(m, "common read at %#x width %u: not the field's width", off, width);
            return 0xffffffffu;
        }
        return vm_common_read(m, off);
    case VIRTIO_AREA_ISR: {
        uint8_t v = m->isr;
        m->isr = 0;
        return v;
    }
    case VIRTIO_AREA_DEVICE: {
        if (off < 24 && width != (off == 16 ? 2u : off == 18 || off == 19 ? 1u : 4u))
            VM_FAIL(m, "device config read at %#x width %u: not the field's width", off, width);
        uint32_t v = 0;
        if (off + width <= VM_DEVCFG_LEN)
            memcpy(&v, m->devcfg + off, width);
        return v;
    }
    default:
        VM_FAIL(m, "read of the notify area");
        return 0;
    }
}

static inline void vm_write(void *ctx, enum virtio_area area, uint32_t off, unsigned width,
                            uint32_t value)
{
    struct virtio_model *m = ctx;
    if ((width != 1 && width != 2 && width != 4) || off % width || area >= VIRTIO_AREAS ||
        off + width > m->area_len[area]) {
        VM_FAIL(m, "write area %d off %#x width %u", area, off, width);
        return;
    }
    switch (area) {
    case VIRTIO_AREA_COMMON:
        if (vm_common_width(off) != width) {
            VM_FAIL(m, "common write at %#x width %u: not the field's width", off, width);
            return;
        }
        vm_common_write(m, off, value);
        return;
    case VIRTIO_AREA_NOTIFY:
        m->notifies++;
        if (width != 2 || off != (uint32_t)m->notify_off * m->notify_mult || value != 0)
            VM_FAIL(m, "notify at %#x width %u value %u", off, width, value);
        if (!(m->status & VIRTIO_STATUS_DRIVER_OK))
            VM_FAIL(m, "notify before DRIVER_OK");
        vm_process(m);
        return;
    default:
        VM_FAIL(m, "write to area %d", area);
        return;
    }
}

static inline struct virtio_transport vm_transport(struct virtio_model *m)
{
    struct virtio_transport t = {m, vm_read, vm_write, {0}, m->notify_mult};
    memcpy(t.len, m->area_len, sizeof(t.len));
    return t;
}

#endif
