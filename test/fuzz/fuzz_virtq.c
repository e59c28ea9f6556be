/*
 * libFuzzer target for the virtio-blk driver core (servers/virtio_blk):
 * a device whose configuration and every move come from the input --
 * honest processing mixed with nonsense used-ring entries, indices that
 * jump, bad lengths and status bytes, resets asked for, configuration
 * changes, scribbles over the descriptor table. Checked after every step:
 * the driver never hands the device an address outside its DMA regions,
 * never reports a completion for a request that is not in flight (or
 * twice), and breaks no rule the device model checks.
 *
 * Input layout (bytes past the end read as 0):
 *   device: features byte, qmax (le16), blk_size shift, seg_max, size_max
 *           (bytes, scaled), capacity (le16, sectors), notify_off,
 *           multiplier shift, config flips, reset delay, memory layout,
 *           slots, request KiB
 *   then steps: an opcode byte and its argument bytes (see step()).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>

#include "../../servers/virtio_blk/vblk.h"
#include "../host/virtio_model.h"
#include "fuzz_copy.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#define DISK_BYTES (256u * 1024)
#define MEM_BYTES  (128u * 1024)

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint16_t u16(struct reader *r)
{
    uint16_t lo = u8(r);
    return (uint16_t)(lo | u8(r) << 8);
}

static struct virtio_model model;
static struct vblk blk;
static struct virtio_transport transport;
static uint8_t disk[DISK_BYTES];
static uint8_t *mem;
static struct dma_region regions[DMA_MAX_REGIONS];
static unsigned nregions;

/* What the harness handed over: per slot, the cookie in flight. */
static bool inflight[VBLK_MAX_SLOTS];
static uint64_t cookie_of[VBLK_MAX_SLOTS];
static uint64_t next_cookie;

static bool in_regions(uint64_t phys, uint64_t len)
{
    for (unsigned i = 0; i < nregions; i++)
        if (phys >= regions[i].phys && phys - regions[i].phys < regions[i].size &&
            len <= regions[i].size - (phys - regions[i].phys))
            return true;
    return false;
}

/* The chain the driver just published: inside the table, inside the
 * regions, readable before writable, ending where it says. */
static void check_published(void)
{
    struct virtq *q = &blk.q;
    uint16_t head = q->avail->ring[(uint16_t)(q->avail_idx - 1) & (q->size - 1)];
    CHECK(head < q->size);
    bool writable = false;
    unsigned n = 0;
    for (uint16_t at = head;; at = q->desc[at].next) {
        CHECK(at < q->size && n++ < q->size);
        struct virtq_desc d = q->desc[at];
        CHECK(d.len > 0 && in_regions(d.addr, d.len));
        CHECK((d.flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE)) == 0);
        CHECK(!writable || (d.flags & VIRTQ_DESC_F_WRITE));
        writable = d.flags & VIRTQ_DESC_F_WRITE;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
    }
    CHECK(n >= 2);
}

static void collect(unsigned n, const struct vblk_done *d)
{
    for (unsigned i = 0; i < n; i++) {
        CHECK(d[i].slot < blk.nslots);
        CHECK(inflight[d[i].slot] && cookie_of[d[i].slot] == d[i].cookie);
        CHECK(d[i].status == 0 || d[i].status == -E_IO || d[i].status == -E_NOSYS);
        inflight[d[i].slot] = false;
        vblk_slot_free(&blk, d[i].slot);
    }
}

static void submit(enum vblk_op op, uint64_t first, uint32_t count)
{
    int slot = vblk_slot_alloc(&blk);
    if (slot < 0) {
        CHECK(slot == -E_BUSY);
        return;
    }
    CHECK(!inflight[slot]);
    uint16_t before = blk.q.avail_idx;
    uint64_t cookie = next_cookie++;
    int rc = vblk_submit(&blk, (unsigned)slot, op, first, count, cookie, 0);
    if (rc < 0) {
        CHECK(rc == -E_INVAL || rc == -E_RANGE || rc == -E_PERM || rc == -E_IO);
        vblk_slot_free(&blk, (unsigned)slot);
        return;
    }
    inflight[slot] = true;
    cookie_of[slot] = cookie;
    if (blk.q.avail_idx != before)
        check_published();
}

static void step(struct reader *r)
{
    struct vblk_done done[VBLK_MAX_SLOTS];
    uint8_t op = u8(r);
    switch (op % 16) {
    case 0:
    case 1: {
        uint64_t first = u16(r);
        uint32_t count = 1 + u8(r) % 64;
        submit(op % 2 ? VBLK_WRITE : VBLK_READ, first, count);
        break;
    }
    case 2:
        submit(VBLK_FLUSH, 0, 0);
        break;
    case 3:
        submit(VBLK_GET_ID, 0, 0);
        break;
    case 4:
        vblk_kick(&blk);
        break;
    case 5: { /* the device takes what is available and holds it */
        bool defer = model.defer;
        model.defer = true;
        vm_process(&model);
        model.defer = defer;
        break;
    }
    case 6:
        if (model.npending)
            vm_complete(&model, u8(r) % model.npending);
        break;
    case 7: { /* a used entry of the input's choosing */
        uint32_t id = u16(r);
        if (id >= 0x8000)
            id |= 0xffff0000u;
        uint32_t len = u16(r);
        vm_used_raw(&model, id, len, u8(r) % 8 == 7 ? u16(r) : u8(r) % 4);
        break;
    }
    case 8:
        model.next_status = u8(r) % 6 == 5 ? VM_STATUS_KEEP : u8(r) % 5;
        break;
    case 9:
        model.len_delta = (int8_t)u8(r);
        break;
    case 10:
        model.status |= VIRTIO_STATUS_NEEDS_RESET;
        model.isr |= VIRTIO_ISR_CONFIG;
        break;
    case 11: {
        uint64_t cap = u16(r);
        memcpy(model.devcfg, &cap, 8);
        model.isr |= VIRTIO_ISR_CONFIG;
        break;
    }
    case 12:
        collect(vblk_interrupt(&blk, done, 1 + u8(r) % VBLK_MAX_SLOTS), done);
        break;
    case 13:
        collect(vblk_poll(&blk, done, VBLK_MAX_SLOTS), done);
        break;
    case 14:
        vblk_restart(&blk);
        break;
    default: { /* scribbles over what the driver wrote and never reads back */
        bool defer = model.defer;
        model.defer = true;
        vm_process(&model); /* first the device takes what is there */
        model.defer = defer;
        uint8_t v = u8(r);
        memset(blk.q.mem_desc.virt, v, blk.q.mem_desc.len);
        memset(blk.q.avail->ring, v, 2u * blk.q.size);
        break;
    }
    }
    /* The books agree with the slots. */
    if (!blk.q.broken && !blk.dead) {
        unsigned n = 0;
        for (unsigned i = 0; i < blk.nslots; i++)
            n += blk.slot[i].state == VBLK_SLOT_INFLIGHT;
        CHECK(n == blk.q.inflight);
    }
    CHECK(model.violations == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = fuzz_copy(data, size);
    struct reader r = {in, size};

    /* The disk's contents steer nothing in the driver: filled once. */
    if (disk[1] == 0)
        for (unsigned i = 0; i < DISK_BYTES; i++)
            disk[i] = (uint8_t)(i * 7 + 1);
    vm_init(&model, disk, DISK_BYTES);
    uint8_t f = u8(&r);
    if (f & 1)
        model.offered |= 1ull << VIRTIO_BLK_F_RO;
    if (f & 2)
        model.offered &= ~(1ull << VIRTIO_BLK_F_FLUSH);
    if (f & 4)
        model.offered |= 1ull << VIRTIO_BLK_F_SIZE_MAX;
    if (f & 8)
        model.offered &= ~(1ull << VIRTIO_BLK_F_SEG_MAX);
    if (f & 16)
        model.offered &= ~(1ull << VIRTIO_F_VERSION_1);
    model.refuse_features = (f & 0xe0) == 0xe0;
    model.defer = f & 32;
    model.qmax = u16(&r);
    vm_put32(model.devcfg + 20, 1u << (u8(&r) % 16));
    vm_put32(model.devcfg + 12, u8(&r));
    vm_put32(model.devcfg + 8, (uint32_t)u8(&r) << 8);
    uint64_t cap = u16(&r);
    memcpy(model.devcfg, &cap, 8);
    model.notify_off = u8(&r);
    model.notify_mult = (1u << (u8(&r) % 8)) & ~1u;
    model.cfg_flips = u8(&r) % 20;
    model.reset_delay = u8(&r);
    uint8_t layout = u8(&r) % 3;
    unsigned slots = 1 + u8(&r) % VBLK_MAX_SLOTS;
    uint32_t request = (1 + u8(&r) % 64) * 1024;

    mem = aligned_alloc(DMA_PAGE, MEM_BYTES);
    CHECK(mem);
    nregions = 0;
    if (layout == 0) {
        regions[nregions++] = (struct dma_region){mem, 0x40000000, MEM_BYTES};
    } else if (layout == 1) {
        for (unsigned i = 0; i < 16; i++) /* pages, physically in reverse */
            regions[nregions++] = (struct dma_region){
                mem + i * DMA_PAGE, 0x80000000ull + (15 - i) * DMA_PAGE, DMA_PAGE};
    } else {
        regions[nregions++] = (struct dma_region){mem, 0x200000000ull, MEM_BYTES / 2};
        regions[nregions++] =
            (struct dma_region){mem + MEM_BYTES / 2, 0x1ffff0000ull, MEM_BYTES / 2};
    }
    for (unsigned i = 0; i < nregions; i++)
        vm_add_dma(&model, &regions[i]);
    transport = vm_transport(&model);
    memset(inflight, 0, sizeof(inflight));
    next_cookie = 1;

    struct vblk_config cfg = {request, slots, 1};
    int rc = vblk_init(&blk, &transport, regions, nregions, &cfg);
    CHECK(model.violations == 0);
    if (rc == 0) {
        CHECK(blk.nslots >= 1 && blk.nslots <= slots);
        CHECK(blk.part_bytes >= blk.sector_size && blk.part_bytes % blk.sector_size == 0);
        for (int steps = 0; r.n && steps < 400; steps++)
            step(&r);
        /* Whatever happened, a reset makes every request come back once. */
        vblk_restart(&blk);
        struct vblk_done done[VBLK_MAX_SLOTS];
        collect(vblk_poll(&blk, done, VBLK_MAX_SLOTS), done);
        for (unsigned i = 0; i < VBLK_MAX_SLOTS; i++)
            CHECK(!inflight[i]);
        CHECK(model.violations == 0);
    }
    free(mem);
    free(in);
    return 0;
}
