/*
 * virtio-blk (virtio 1.0 section 5.2) over virtio.c and virtq.c. The
 * device is trusted with nothing: what it says about sizes bounds only
 * itself, a completion is believed only for a slot in flight, and a
 * protocol violation costs a reset, never a wrong memory access.
 */
#include "vblk.h"

#include <abi/errno.h>
#include <common/string.h>
#include <stddef.h>

#define LD8(p) __atomic_load_n((p), __ATOMIC_RELAXED)

static uint64_t pow2_floor(uint64_t v)
{
    uint64_t p = 1;
    while (p <= v / 2)
        p *= 2;
    return v ? p : 0;
}

/* Read the device config that shapes the layout and the sectors. */
static int read_config(struct vblk *b)
{
    uint64_t v;
    int rc = virtio_config_read(&b->dev, VIRTIO_BLK_CFG_CAPACITY, 8, &v);
    if (rc < 0)
        return rc;
    b->capacity = v;
    b->blk_size = b->size_max = b->seg_max = 0;
    if (virtio_has(&b->dev, VIRTIO_BLK_F_BLK_SIZE) &&
        virtio_config_read(&b->dev, VIRTIO_BLK_CFG_BLK_SIZE, 4, &v) == 0)
        b->blk_size = (uint32_t)v;
    if (virtio_has(&b->dev, VIRTIO_BLK_F_SIZE_MAX) &&
        virtio_config_read(&b->dev, VIRTIO_BLK_CFG_SIZE_MAX, 4, &v) == 0)
        b->size_max = (uint32_t)v;
    if (virtio_has(&b->dev, VIRTIO_BLK_F_SEG_MAX) &&
        virtio_config_read(&b->dev, VIRTIO_BLK_CFG_SEG_MAX, 4, &v) == 0)
        b->seg_max = (uint32_t)v;
    return 0;
}

/* After a reset: negotiate and read the config, the part of a start that
 * does not depend on the memory layout. */
static int start_device(struct vblk *b)
{
    int rc = virtio_negotiate(&b->dev, b->want, 0);
    if (rc < 0)
        return rc;
    rc = read_config(b);
    if (rc < 0)
        virtio_fail(&b->dev);
    return rc;
}

static int start_queue(struct vblk *b)
{
    int rc = virtio_queue_enable(&b->dev, 0, b->q.size, b->q.mem_desc.phys, b->q.mem_avail.phys,
                                 b->q.mem_used.phys, &b->notify_off);
    if (rc < 0) {
        virtio_fail(&b->dev);
        return rc;
    }
    virtio_driver_ok(&b->dev);
    return 0;
}

/* Carve the rings for a queue of qsize entries out of p. */
static int alloc_rings(struct dma_pool *p, uint16_t qsize, struct dma_seg s[3])
{
    if (dma_alloc(p, VIRTQ_DESC_BYTES(qsize), VIRTQ_DESC_ALIGN, &s[0]) < 0 ||
        dma_alloc(p, VIRTQ_AVAIL_BYTES(qsize), VIRTQ_AVAIL_ALIGN, &s[1]) < 0 ||
        dma_alloc(p, VIRTQ_USED_BYTES(qsize), VIRTQ_USED_ALIGN, &s[2]) < 0)
        return -E_NOMEM;
    return 0;
}

/* One slot's header and buffer out of p (cap: bytes wanted). */
static int alloc_slot(struct vblk *b, struct dma_pool *p, struct vblk_slot *s, uint32_t cap,
                      unsigned max_segs)
{
    *s = (struct vblk_slot){.state = VBLK_SLOT_FREE};
    if (dma_alloc(p, VBLK_HDR_BYTES + 1, 16, &s->hdr) < 0)
        return -E_NOMEM;
    uint32_t seg_len = b->size_max >= b->sector_size ? b->size_max : 0xfffff000u;
    s->nseg = dma_alloc_segs(p, cap, b->sector_size, b->sector_size, seg_len, s->seg, max_segs,
                             &s->capacity);
    if (s->nseg == 0 || s->capacity < VIRTIO_BLK_ID_BYTES)
        return -E_NOMEM;
    return 0;
}

static int lay_out(struct vblk *b, const struct vblk_config *cfg)
{
    uint16_t qmax = virtio_queue_max(&b->dev, 0);
    if (qmax == 0)
        return -E_NOENT;
    uint16_t qsize = (uint16_t)pow2_floor(qmax < VIRTQ_MAX_SIZE ? qmax : VIRTQ_MAX_SIZE);
    /* The largest queue that leaves room for at least one slot. */
    struct dma_seg rings[3];
    struct vblk_slot probe;
    unsigned max_segs = VBLK_MAX_SEGS;
    if (b->seg_max && b->seg_max < max_segs)
        max_segs = b->seg_max;
    if (qsize < 4)
        return -E_RANGE; /* header + data + status need three descriptors */
    for (;; qsize /= 2) {
        if (qsize < 4)
            return -E_NOMEM;
        struct dma_pool trial = b->pool;
        if (alloc_rings(&trial, qsize, rings) == 0 &&
            alloc_slot(b, &trial, &probe, b->sector_size, 1) == 0)
            break;
    }
    alloc_rings(&b->pool, qsize, rings);
    int rc = virtq_init(&b->q, qsize, &rings[0], &rings[1], &rings[2]);
    if (rc < 0)
        return rc;
    /* Slots while memory and descriptors last: each needs 2 + nseg of them,
     * so a free slot always finds its descriptors free. All hold what the
     * first holds: a small last one would shrink every request. */
    unsigned slots = cfg->slots < VBLK_MAX_SLOTS ? cfg->slots : VBLK_MAX_SLOTS;
    unsigned desc_left = qsize;
    for (b->nslots = 0; b->nslots < slots && desc_left >= 3;) {
        unsigned segs = desc_left - 2 < max_segs ? desc_left - 2 : max_segs;
        struct dma_pool trial = b->pool;
        struct vblk_slot *s = &b->slot[b->nslots];
        uint32_t want = b->nslots ? b->part_bytes : cfg->request_bytes;
        if (alloc_slot(b, &trial, s, want, segs) < 0 || (b->nslots && s->capacity != want))
            break;
        b->pool = trial;
        desc_left -= 2 + s->nseg;
        b->part_bytes = s->capacity;
        b->nslots++;
    }
    return b->nslots ? 0 : -E_NOMEM;
}

int vblk_init(struct vblk *b, const struct virtio_transport *t, const struct dma_region *r,
              unsigned nr, const struct vblk_config *cfg)
{
    memset(b, 0, sizeof(*b));
    if (cfg->request_bytes < VIRTIO_BLK_SECTOR || cfg->slots == 0)
        return -E_INVAL;
    int rc = dma_pool_init(&b->pool, r, nr);
    if (rc < 0)
        return rc;
    rc = virtio_attach(&b->dev, t);
    if (rc < 0)
        return rc;
    b->want = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
              1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH;
    rc = virtio_reset(&b->dev);
    if (rc == 0)
        rc = start_device(b);
    if (rc < 0)
        return rc;
    /* The logical block size is only a hint for virtio; clients get it as
     * their sector size when it is sane. */
    b->sector_size = VIRTIO_BLK_SECTOR;
    if (b->blk_size >= VIRTIO_BLK_SECTOR && b->blk_size <= DMA_PAGE &&
        (b->blk_size & (b->blk_size - 1)) == 0)
        b->sector_size = b->blk_size;
    while ((VIRTIO_BLK_SECTOR << b->shift) < b->sector_size)
        b->shift++;
    b->sectors = b->capacity >> b->shift;
    b->read_only = virtio_has(&b->dev, VIRTIO_BLK_F_RO);
    b->flush = virtio_has(&b->dev, VIRTIO_BLK_F_FLUSH);
    b->epoch = cfg->epoch;
    rc = lay_out(b, cfg);
    if (rc == 0)
        rc = start_queue(b);
    if (rc < 0)
        virtio_fail(&b->dev);
    return rc;
}

int vblk_slot_alloc(struct vblk *b)
{
    for (unsigned i = 0; i < b->nslots; i++)
        if (b->slot[i].state == VBLK_SLOT_FREE) {
            b->slot[i].state = VBLK_SLOT_RESERVED;
            return (int)i;
        }
    return -E_BUSY;
}

void vblk_slot_free(struct vblk *b, unsigned slot)
{
    if (slot < b->nslots &&
        (b->slot[slot].state == VBLK_SLOT_DONE || b->slot[slot].state == VBLK_SLOT_RESERVED))
        b->slot[slot].state = VBLK_SLOT_FREE;
}

unsigned vblk_slot_iov(const struct vblk *b, unsigned slot, uint32_t off, uint32_t len,
                       struct vblk_iov *iov, unsigned max)
{
    if (slot >= b->nslots)
        return 0;
    const struct vblk_slot *s = &b->slot[slot];
    if (off > s->capacity || len > s->capacity - off)
        return 0;
    unsigned n = 0;
    for (unsigned i = 0; i < s->nseg && len; i++) {
        if (off >= s->seg[i].len) {
            off -= s->seg[i].len;
            continue;
        }
        uint32_t take = s->seg[i].len - off;
        if (take > len)
            take = len;
        uint8_t *v = s->seg[i].virt + off;
        if (n && iov[n - 1].virt + iov[n - 1].len == v)
            iov[n - 1].len += take;
        else if (n < max)
            iov[n++] = (struct vblk_iov){v, take};
        else
            break;
        len -= take;
        off = 0;
    }
    return n;
}

static void complete(struct vblk_slot *s, int status)
{
    s->status = status;
    s->state = VBLK_SLOT_COMPLETE;
}

int vblk_submit(struct vblk *b, unsigned slot, enum vblk_op op, uint64_t first, uint32_t count,
                uint64_t cookie, uint64_t now)
{
    if (slot >= b->nslots || b->slot[slot].state != VBLK_SLOT_RESERVED)
        return -E_INVAL;
    struct vblk_slot *s = &b->slot[slot];
    uint32_t type, bytes = 0;
    uint64_t sector = 0;
    switch (op) {
    case VBLK_READ:
    case VBLK_WRITE:
        if (count == 0 || count > s->capacity >> (9 + b->shift))
            return -E_INVAL;
        if (first >= b->sectors || count > b->sectors - first)
            return -E_RANGE;
        if (op == VBLK_WRITE && b->read_only)
            return -E_PERM;
        type = op == VBLK_READ ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
        bytes = count << (9 + b->shift);
        sector = first << b->shift;
        break;
    case VBLK_FLUSH:
        type = VIRTIO_BLK_T_FLUSH;
        break;
    case VBLK_GET_ID:
        type = VIRTIO_BLK_T_GET_ID;
        bytes = VIRTIO_BLK_ID_BYTES;
        break;
    default:
        return -E_INVAL;
    }
    if (b->dead)
        return -E_IO;
    s->op = (uint8_t)op;
    s->bytes = bytes;
    s->cookie = cookie;
    s->submitted = now;
    if (op == VBLK_FLUSH && !b->flush) {
        complete(s, 0); /* no volatile cache the driver could flush */
        return 0;
    }
    if (op == VBLK_GET_ID) /* the device may write less: never a stale byte */
        for (uint32_t i = 0, left = bytes; i < s->nseg && left; i++) {
            uint32_t n = s->seg[i].len < left ? s->seg[i].len : left;
            memset(s->seg[i].virt, 0, n);
            left -= n;
        }

    /* struct virtio_blk_req: le32 type, le32 reserved, le64 sector */
    memcpy(s->hdr.virt, &type, 4);
    memset(s->hdr.virt + 4, 0, 4);
    memcpy(s->hdr.virt + 8, &sector, 8);
    s->hdr.virt[VBLK_HDR_BYTES] = VBLK_STATUS_UNSET;

    struct virtq_buf bufs[VBLK_MAX_SEGS + 2];
    unsigned n = 0;
    bufs[n++] = (struct virtq_buf){s->hdr.phys, VBLK_HDR_BYTES};
    for (unsigned i = 0; i < s->nseg && bytes; i++) {
        uint32_t take = s->seg[i].len < bytes ? s->seg[i].len : bytes;
        bufs[n++] = (struct virtq_buf){s->seg[i].phys, take};
        bytes -= take;
    }
    unsigned nout = op == VBLK_WRITE ? n : 1;
    bufs[n++] = (struct virtq_buf){s->hdr.phys + VBLK_HDR_BYTES, 1};
    int rc = virtq_add(&b->q, bufs, nout, n - nout, slot);
    if (rc < 0)
        return -E_IO; /* broken queue; a slot always finds its descriptors */
    s->state = VBLK_SLOT_INFLIGHT;
    return 0;
}

void vblk_kick(struct vblk *b)
{
    if (!b->dead && !b->q.broken && virtq_kick_needed(&b->q))
        virtio_notify(&b->dev, 0, b->notify_off);
}

/* The outcome of a request the device handed back with used length len. */
static int outcome(const struct vblk_slot *s, uint32_t len)
{
    uint8_t st = LD8(&s->hdr.virt[VBLK_HDR_BYTES]);
    if (len == VIRTQ_LEN_BAD)
        return -E_IO;
    switch (st) {
    case VIRTIO_BLK_S_OK:
        /* A read must have filled the whole buffer and the status byte. */
        if (s->op == VBLK_READ && len != s->bytes + 1)
            return -E_IO;
        return 0;
    case VIRTIO_BLK_S_UNSUPP: /* only an ID is optional; reads, writes, flushes are not */
        return s->op == VBLK_GET_ID ? -E_NOSYS : -E_IO;
    default:
        return -E_IO; /* IOERR, unwritten (VBLK_STATUS_UNSET) or nonsense */
    }
}

static unsigned report(struct vblk *b, struct vblk_done *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < b->nslots && n < max; i++) {
        struct vblk_slot *s = &b->slot[i];
        if (s->state != VBLK_SLOT_COMPLETE)
            continue;
        s->state = VBLK_SLOT_DONE;
        out[n++] = (struct vblk_done){i, s->cookie, s->status, s->op, s->bytes};
    }
    return n;
}

unsigned vblk_poll(struct vblk *b, struct vblk_done *out, unsigned max)
{
    for (;;) {
        uint64_t token;
        uint32_t len;
        int rc = virtq_get(&b->q, &token, &len);
        if (rc == 0)
            break;
        /* virtq hands back only tokens of chains in flight, and each slot
         * has at most one; the check is for this file's own mistakes. */
        if (rc < 0 || token >= b->nslots || b->slot[token].state != VBLK_SLOT_INFLIGHT) {
            vblk_restart(b);
            break;
        }
        complete(&b->slot[token], outcome(&b->slot[token], len));
    }
    return report(b, out, max);
}

unsigned vblk_interrupt(struct vblk *b, struct vblk_done *out, unsigned max)
{
    uint8_t isr = b->dead ? 0 : virtio_isr(&b->dev);
    if (isr & VIRTIO_ISR_CONFIG) {
        uint64_t cap;
        if (virtio_status(&b->dev) & VIRTIO_STATUS_NEEDS_RESET) {
            vblk_restart(b);
        } else if (virtio_config_read(&b->dev, VIRTIO_BLK_CFG_CAPACITY, 8, &cap) == 0) {
            b->capacity = cap; /* may grow or shrink; requests are checked against it */
            b->sectors = cap >> b->shift;
        }
    }
    return vblk_poll(b, out, max);
}

bool vblk_stalled(const struct vblk *b, uint64_t now, uint64_t timeout)
{
    for (unsigned i = 0; i < b->nslots; i++)
        if (b->slot[i].state == VBLK_SLOT_INFLIGHT && now - b->slot[i].submitted > timeout)
            return true;
    return false;
}

int vblk_restart(struct vblk *b)
{
    b->resets++;
    b->epoch++;
    uint64_t features = b->dev.features, capacity = b->capacity;
    uint32_t blk_size = b->blk_size, size_max = b->size_max, seg_max = b->seg_max;
    int rc = b->dead ? -E_IO : virtio_reset(&b->dev);
    /* From here the device touches none of the buffers: fail what it had. */
    for (unsigned i = 0; i < b->nslots; i++)
        if (b->slot[i].state == VBLK_SLOT_INFLIGHT)
            complete(&b->slot[i], -E_IO);
    if (rc < 0)
        goto dead;
    virtq_restart(&b->q);
    rc = start_device(b);
    if (rc < 0)
        goto dead;
    /* The slots were laid out for the old answers: they must still hold. */
    if (b->dev.features != features || b->blk_size != blk_size || b->size_max != size_max ||
        b->seg_max != seg_max || virtio_queue_max(&b->dev, 0) < b->q.size) {
        rc = -E_IO;
        goto dead;
    }
    if (b->capacity != capacity)
        b->sectors = b->capacity >> b->shift;
    rc = start_queue(b);
    if (rc == 0)
        return 0;
dead:
    b->dead = true;
    virtio_fail(&b->dev);
    return rc;
}
